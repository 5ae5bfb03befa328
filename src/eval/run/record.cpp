// JSON form of the run records (record.hpp). Readers are strict about the fields they know (missing or
// mistyped -> tenx::Error "FILE: FIELD: problem", util/json_fields.hpp) and ignore fields they do not know, so a later
// additive field does not break an older reader. Non-finite doubles (a -inf log-likelihood) are
// written as null and read back as -inf.
#include "tenx/eval/run/record.hpp"

#include <cmath>
#include <limits>

#include "tenx/util/error.hpp"
#include "tenx/util/json_fields.hpp"

namespace tenx::eval {
namespace {

Json finite_or_null(double x) { return std::isfinite(x) ? Json(x) : Json(nullptr); }

// Strict typed access to the fields of one JSON object, through util's JsonFields (one wording:
// "run.json: models[0].sha256: missing"). `path` places a nested object in its file.
class Fields {
 public:
  Fields(const Json& j, const std::string& file, std::string path = "")
      : j_(j), fields_(file), path_(std::move(path)) {
    if (!j_.is_object())
      fields_.fail_always(path_.empty() ? "(top level)" : path_, JsonFields::wrong_type("a JSON object", j_));
  }

  [[noreturn]] void wrong(const std::string& field, const std::string& expected, const Json& v) const {
    fields_.fail_always(field, JsonFields::wrong_type(expected.c_str(), v));
  }
  // The path of a key of this object, or of element i of its list `key`.
  std::string field(const std::string& key) const { return fields_.field(path_, key); }
  std::string element(const std::string& key, std::size_t i) const { return fields_.element(field(key), i); }

  const Json& at(const std::string& key) const { return *fields_.member(j_, path_, key, kRequired); }
  std::string str(const std::string& key) const { return *fields_.string(j_, path_, key, kRequired); }
  bool boolean(const std::string& key) const { return *fields_.boolean(j_, path_, key, kRequired); }
  int64_t i64(const std::string& key) const { return *fields_.integer(j_, path_, key, kRequired); }
  int i32(const std::string& key) const {
    return static_cast<int>(*fields_.integer(j_, path_, key, kRequired, INT32_MIN, INT32_MAX));
  }
  uint64_t u64(const std::string& key) const { return *fields_.unsigned_integer(j_, path_, key, kRequired); }
  double num(const std::string& key) const { return *fields_.number(j_, path_, key, kRequired); }
  std::optional<std::string> opt_str(const std::string& key) const {
    return fields_.string(j_, path_, key, JsonFields::Need::nullable);
  }
  std::optional<double> opt_num(const std::string& key) const {
    return fields_.number(j_, path_, key, JsonFields::Need::nullable);
  }
  const Json& list(const std::string& key) const { return *fields_.array(j_, path_, key, kRequired); }
  const Json& object(const std::string& key) const { return *fields_.object(j_, path_, key, kRequired); }
  std::vector<std::string> strings(const std::string& key) const {
    return *fields_.strings(j_, path_, key, kRequired);
  }
  const std::string& subject() const { return fields_.file(); }
  [[noreturn]] void fail(const std::string& field, const std::string& problem) const {
    fields_.fail_always(field, problem);
  }

 private:
  static constexpr JsonFields::Need kRequired = JsonFields::Need::required;
  const Json& j_;
  JsonFields fields_;
  std::string path_;
};

void check_format(const Fields& f) {
  int format = f.i32("format");
  if (format != kRecordFormat)
    f.fail(f.field("format"), std::to_string(format) + " is not supported (this tenx reads " +
                                  std::to_string(kRecordFormat) + ")");
}

}  // namespace

Json to_json(const ItemRecord& r) {
  Json j;
  j["model"] = r.model;
  j["suite"] = r.suite;
  j["item"] = r.item;
  j["task"] = r.task;
  j["type"] = r.type;
  j["applicable"] = r.applicable;
  j["error"] = r.error;
  j["correct"] = r.correct;
  j["correct_norm"] = r.correct_norm;
  j["score"] = r.score;
  Json ll = Json::array();
  for (double x : r.loglik) ll.push_back(finite_or_null(x));
  j["loglik"] = ll;
  j["choice_bytes"] = r.choice_bytes;
  j["predicted"] = r.predicted;
  j["gold"] = r.gold;
  if (!r.choice_method.empty()) j["choice_method"] = r.choice_method;
  j["output"] = r.output;
  if (r.type == "generate" || !r.choice_method.empty()) j["extracted"] = r.extracted ? Json(*r.extracted) : Json(nullptr);
  j["steps"] = r.steps;
  j["calls"] = r.calls;
  j["valid_calls"] = r.valid_calls;
  j["call_match"] = r.call_match;
  j["stop_reason"] = r.stop_reason;
  if (!r.failure.empty()) j["failure"] = r.failure;
  j["tokens_in"] = r.tokens_in;
  j["tokens_out"] = r.tokens_out;
  j["flops"] = r.flops;
  j["flops_naive"] = r.flops_naive;
  j["bytes_read"] = r.bytes_read;
  j["image_positions"] = r.image_positions;
  j["image_flops"] = r.image_flops;
  j["image_bytes_read"] = r.image_bytes_read;
  j["seconds"] = r.seconds;
  j["time_to_first_token"] = r.time_to_first_token;
  j["decode_seconds_per_token"] = r.decode_seconds_per_token;
  return j;
}

ItemRecord item_record_from_json(const Json& j, const std::string& subject) {
  Fields f(j, subject);
  ItemRecord r;
  r.model = f.str("model");
  r.suite = f.str("suite");
  r.item = f.str("item");
  r.task = f.str("task");
  r.type = f.str("type");
  r.applicable = f.boolean("applicable");
  r.error = f.str("error");
  r.correct = f.boolean("correct");
  r.correct_norm = f.boolean("correct_norm");
  r.score = f.num("score");
  const Json& ll = f.list("loglik");
  for (size_t i = 0; i < ll.size(); ++i) {
    if (ll[i].is_null()) r.loglik.push_back(-std::numeric_limits<double>::infinity());
    else if (ll[i].is_number()) r.loglik.push_back(ll[i].get<double>());
    else f.wrong(f.element("loglik", i), "a number", ll[i]);
  }
  const Json& cb = f.list("choice_bytes");
  for (size_t i = 0; i < cb.size(); ++i) {
    if (!cb[i].is_number_integer()) f.wrong(f.element("choice_bytes", i), "an integer", cb[i]);
    r.choice_bytes.push_back(cb[i].get<int64_t>());
  }
  if (r.choice_bytes.size() != r.loglik.size())
    f.fail("choice_bytes", std::to_string(r.choice_bytes.size()) + " entries but loglik has " +
                               std::to_string(r.loglik.size()));
  r.predicted = f.i32("predicted");
  r.gold = f.i32("gold");
  if (j.contains("choice_method")) r.choice_method = f.str("choice_method");
  r.output = f.str("output");
  if (r.type == "generate" || !r.choice_method.empty()) r.extracted = f.opt_str("extracted");  // absent in runs before it existed
  r.steps = f.i32("steps");
  r.calls = f.i32("calls");
  r.valid_calls = f.i32("valid_calls");
  r.call_match = f.num("call_match");
  r.stop_reason = f.str("stop_reason");
  if (j.contains("failure")) r.failure = f.str("failure");
  r.tokens_in = f.i64("tokens_in");
  r.tokens_out = f.i64("tokens_out");
  r.flops = f.u64("flops");
  r.flops_naive = f.u64("flops_naive");
  r.bytes_read = f.u64("bytes_read");
  r.image_positions = f.i64("image_positions");
  if (j.contains("image_flops")) r.image_flops = f.u64("image_flops");  // absent in runs before it existed
  if (j.contains("image_bytes_read")) r.image_bytes_read = f.u64("image_bytes_read");
  r.seconds = f.num("seconds");
  r.time_to_first_token = f.num("time_to_first_token");
  r.decode_seconds_per_token = f.num("decode_seconds_per_token");
  return r;
}

Json to_json(const ModelInfo& m) {
  Json j;
  j["name"] = m.name;
  j["path"] = m.path;
  j["sha256"] = m.sha256;
  j["projector_path"] = m.projector_path;
  j["projector_sha256"] = m.projector_sha256;
  j["projector_type"] = m.projector_type;
  j["architecture"] = m.architecture;
  j["n_params"] = m.n_params;
  j["n_embd"] = m.n_embd;
  j["n_layer"] = m.n_layer;
  j["n_head"] = m.n_head;
  j["n_head_kv"] = m.n_head_kv;
  j["n_ff"] = m.n_ff;
  j["n_vocab"] = m.n_vocab;
  j["n_ctx"] = m.n_ctx;
  Json by_type = Json::object();
  for (const auto& [type, bytes] : m.weight_bytes_by_type) by_type[type] = bytes;
  j["weight_bytes_by_type"] = by_type;
  j["weight_bytes"] = m.weight_bytes;
  j["kv_bytes_peak"] = m.kv_bytes_peak;
  j["working_bytes"] = m.working_bytes;
  j["peak_rss_bytes"] = m.peak_rss_bytes;
  if (m.batch > 0) j["batch"] = m.batch;
  j["flops_per_token"] = m.flops_per_token;
  j["training_flops"] = m.training_flops ? Json(*m.training_flops) : Json(nullptr);
  j["training_tokens"] = m.training_tokens ? Json(*m.training_tokens) : Json(nullptr);
  j["training_seconds"] = m.training_seconds ? Json(*m.training_seconds) : Json(nullptr);
  j["training_flops_estimated"] = m.training_flops_estimated;
  if (m.compute_source != "counted" || m.latency_source != "local" || m.memory_source != "measured") {
    j["compute_source"] = m.compute_source;  // a remote model (docs/remote.md); local runs stay as they were
    j["latency_source"] = m.latency_source;
    j["memory_source"] = m.memory_source;
  }
  j["protocol"] = m.protocol;
  if (!m.chat_template_sha256.empty()) j["chat_template_sha256"] = m.chat_template_sha256;
  if (!m.api.empty()) j["api"] = m.api;
  if (!m.tool_format.empty()) j["tool_format"] = m.tool_format;
  if (!m.choice_method.empty()) j["choice_method"] = m.choice_method;
  return j;
}

namespace {
ModelInfo model_info_at(const Json& j, const std::string& file, const std::string& path) {
  Fields f(j, file, path);
  ModelInfo m;
  m.name = f.str("name");
  m.path = f.str("path");
  m.sha256 = f.str("sha256");
  m.projector_path = f.str("projector_path");
  m.projector_sha256 = f.str("projector_sha256");
  if (j.contains("projector_type")) m.projector_type = f.str("projector_type");  // absent in runs before it
  m.architecture = f.str("architecture");
  m.n_params = f.i64("n_params");
  m.n_embd = f.i64("n_embd");
  m.n_layer = f.i64("n_layer");
  m.n_head = f.i64("n_head");
  m.n_head_kv = f.i64("n_head_kv");
  m.n_ff = f.i64("n_ff");
  m.n_vocab = f.i64("n_vocab");
  m.n_ctx = f.i64("n_ctx");
  const Json& by_type = f.object("weight_bytes_by_type");
  for (auto it = by_type.begin(); it != by_type.end(); ++it) {
    if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<int64_t>() >= 0))
      f.wrong(f.field("weight_bytes_by_type") + "." + it.key(), "a non-negative integer", *it);
    m.weight_bytes_by_type[it.key()] = it->get<uint64_t>();
  }
  m.weight_bytes = f.u64("weight_bytes");
  m.kv_bytes_peak = f.u64("kv_bytes_peak");
  m.working_bytes = f.u64("working_bytes");
  m.peak_rss_bytes = f.u64("peak_rss_bytes");
  if (j.contains("batch")) m.batch = f.i64("batch");  // absent in runs before --batch
  m.flops_per_token = f.u64("flops_per_token");
  f.at("training_flops");  // present (null = unknown), so a dropped field is noticed
  m.training_flops = f.opt_num("training_flops");
  f.at("training_tokens");
  m.training_tokens = f.opt_num("training_tokens");
  f.at("training_seconds");
  m.training_seconds = f.opt_num("training_seconds");
  m.training_flops_estimated = f.boolean("training_flops_estimated");
  // Absent in runs written before the remote backend: everything was local.
  for (auto [key, field] : {std::pair{"compute_source", &m.compute_source}, std::pair{"latency_source", &m.latency_source},
                            std::pair{"memory_source", &m.memory_source}})
    if (j.contains(key) && j[key].is_string()) *field = j[key].get<std::string>();
  // Absent in runs written before protocols: completion.
  if (j.contains("protocol")) m.protocol = f.str("protocol");
  if (j.contains("chat_template_sha256")) m.chat_template_sha256 = f.str("chat_template_sha256");
  if (j.contains("api")) m.api = f.str("api");
  if (j.contains("tool_format")) m.tool_format = f.str("tool_format");
  if (j.contains("choice_method")) m.choice_method = f.str("choice_method");
  return m;
}
}  // namespace

ModelInfo model_info_from_json(const Json& j, const std::string& subject) { return model_info_at(j, subject, ""); }

Json to_json(const RunManifest& m) {
  Json j;
  j["format"] = m.format;
  j["tenx_version"] = m.tenx_version;
  j["git_commit"] = m.git_commit;
  j["compiler"] = m.compiler;
  j["cpu_model"] = m.cpu_model;
  j["cpu_flags"] = m.cpu_flags;
  j["date"] = m.date;
  j["argv"] = m.argv;
  j["threads"] = m.threads;
  j["seed"] = m.seed;
  j["limit"] = m.limit;
  Json models = Json::array();
  for (const auto& model : m.models) models.push_back(to_json(model));
  j["models"] = models;
  Json suites = Json::array();
  for (const auto& s : m.suites) {
    Json sj;
    sj["name"] = s.name;
    sj["path"] = s.path;
    sj["version"] = s.version;
    sj["split"] = s.split;
    sj["sha256"] = s.sha256;
    sj["items_total"] = s.items_total;
    sj["items_selected"] = s.items_selected;
    suites.push_back(sj);
  }
  j["suites"] = suites;
  // Ordered by the suites list (the map's key order is alphabetical; run order is the suites').
  Json selected = Json::object();
  for (const auto& [suite, ids] : m.selected_items) selected[suite] = ids;
  j["selected_items"] = selected;
  if (m.shard.count > 0) {  // only a shard carries it: a whole run's run.json is as before
    Json suites_part = Json::object();
    for (const auto& [suite, size] : m.shard.selection_size) {
      auto it = m.shard.positions.find(suite);
      suites_part[suite] = {{"selection_size", size},
                            {"positions", it == m.shard.positions.end() ? std::vector<int64_t>{} : it->second}};
    }
    j["shard"] = {{"index", m.shard.index}, {"count", m.shard.count}, {"suites", suites_part}};
  }
  if (!m.merged_from.empty()) {
    Json parts = Json::array();
    for (const ShardOrigin& o : m.merged_from)
      parts.push_back({{"run_dir", o.run_dir}, {"index", o.index}, {"count", o.count}, {"date", o.date},
                       {"cpu_model", o.cpu_model}});
    j["merged_from"] = parts;
  }
  Json shot_items = Json::object();
  for (const auto& [suite, tasks] : m.shot_items) {
    Json t = Json::object();
    for (const auto& [task, ids] : tasks) t[task] = ids;
    shot_items[suite] = t;
  }
  j["prompting"] = {{"protocol", m.protocol_option}, {"shots", m.shots}, {"shot_seed", m.shot_seed},
                    {"shot_items", shot_items}};
  if (m.tool_format_option != "default") j["prompting"]["tool_format"] = m.tool_format_option;
  if (m.choice_method_option != "default") j["prompting"]["choice_method"] = m.choice_method_option;
  return j;
}

namespace {

// run.json "shard" (written only by a shard): I/N in range, and per suite the selection's size and
// this shard's positions in it, ascending, in range and as many as its selected items.
ShardInfo shard_info_at(const Json& j, const std::string& subject, const RunManifest& m) {
  Fields f(j, subject, "shard");
  ShardInfo s;
  s.index = f.i32("index");
  s.count = f.i32("count");
  if (s.count < 1 || s.index < 1 || s.index > s.count)
    f.fail(f.field("index"), "expected shard I of N with 1 <= I <= N, got " + std::to_string(s.index) + "/" +
                                 std::to_string(s.count));
  const Json& suites = f.object("suites");
  for (auto it = suites.begin(); it != suites.end(); ++it) {
    Fields sf(*it, subject, f.field("suites") + "." + it.key());
    const int64_t size = sf.i64("selection_size");
    if (size < 0) sf.fail(sf.field("selection_size"), "must be >= 0");
    const Json& list = sf.list("positions");
    std::vector<int64_t> positions;
    for (size_t i = 0; i < list.size(); ++i) {
      if (!list[i].is_number_integer()) sf.wrong(sf.element("positions", i), "an integer", list[i]);
      const auto p = list[i].get<int64_t>();
      if (p < 0 || p >= size)
        sf.fail(sf.element("positions", i), "position " + std::to_string(p) + " is outside the selection of " +
                                                std::to_string(size) + " items");
      if (!positions.empty() && p <= positions.back())
        sf.fail(sf.element("positions", i), "positions must be ascending and distinct");
      positions.push_back(p);
    }
    auto sel = m.selected_items.find(it.key());
    if (sel == m.selected_items.end()) sf.fail(sf.field("positions"), "selected_items has no suite '" + it.key() + "'");
    if (sel->second.size() != positions.size())
      sf.fail(sf.field("positions"), std::to_string(positions.size()) + " positions for " +
                                         std::to_string(sel->second.size()) + " selected items");
    s.selection_size[it.key()] = size;
    s.positions[it.key()] = std::move(positions);
  }
  for (const auto& [suite, ids] : m.selected_items)
    if (!s.positions.count(suite)) f.fail(f.field("suites"), "no entry for the selected suite '" + suite + "'");
  return s;
}

std::vector<ShardOrigin> merged_from_at(const Json& j, const std::string& subject) {
  if (!j.is_array()) Fields(Json::object(), subject).wrong("merged_from", "a list", j);
  std::vector<ShardOrigin> out;
  for (size_t i = 0; i < j.size(); ++i) {
    Fields f(j[i], subject, "merged_from[" + std::to_string(i) + "]");
    out.push_back({f.str("run_dir"), f.i32("index"), f.i32("count"), f.str("date"), f.str("cpu_model")});
  }
  return out;
}

}  // namespace

RunManifest run_manifest_from_json(const Json& j, const std::string& subject) {
  Fields f(j, subject);
  check_format(f);
  RunManifest m;
  m.tenx_version = f.str("tenx_version");
  m.git_commit = f.str("git_commit");
  m.compiler = f.str("compiler");
  m.cpu_model = f.str("cpu_model");
  m.cpu_flags = f.str("cpu_flags");
  m.date = f.str("date");
  m.argv = f.strings("argv");
  m.threads = f.i32("threads");
  m.seed = f.u64("seed");
  m.limit = f.i64("limit");
  const Json& models = f.list("models");
  for (size_t i = 0; i < models.size(); ++i)
    m.models.push_back(model_info_at(models[i], subject, f.element("models", i)));
  const Json& suites = f.list("suites");
  for (size_t i = 0; i < suites.size(); ++i) {
    Fields s(suites[i], subject, f.element("suites", i));
    SuiteRef ref;
    ref.name = s.str("name");
    ref.path = s.str("path");
    ref.version = s.str("version");
    ref.split = s.str("split");
    ref.sha256 = s.str("sha256");
    ref.items_total = s.i64("items_total");
    ref.items_selected = s.i64("items_selected");
    m.suites.push_back(ref);
  }
  const Json& selected = f.object("selected_items");
  for (auto it = selected.begin(); it != selected.end(); ++it) {
    Fields holder(selected, subject, "selected_items");
    m.selected_items[it.key()] = holder.strings(it.key());
  }
  if (j.contains("shard")) m.shard = shard_info_at(j["shard"], subject, m);
  if (j.contains("merged_from")) m.merged_from = merged_from_at(j["merged_from"], subject);
  if (j.contains("prompting")) {  // absent in runs before protocols: default, no shots
    Fields p(f.object("prompting"), subject, "prompting");
    m.protocol_option = p.str("protocol");
    if (f.object("prompting").contains("tool_format")) m.tool_format_option = p.str("tool_format");
    if (f.object("prompting").contains("choice_method")) m.choice_method_option = p.str("choice_method");
    m.shots = p.i32("shots");
    m.shot_seed = p.u64("shot_seed");
    const Json& suites_part = p.object("shot_items");
    for (auto it = suites_part.begin(); it != suites_part.end(); ++it) {
      Fields s(p.object("shot_items"), subject, "prompting.shot_items");
      const Json& tasks = s.object(it.key());
      Fields t(tasks, subject, "prompting.shot_items." + it.key());
      for (auto task = tasks.begin(); task != tasks.end(); ++task) m.shot_items[it.key()][task.key()] = t.strings(task.key());
    }
  }
  return m;
}

}  // namespace tenx::eval
