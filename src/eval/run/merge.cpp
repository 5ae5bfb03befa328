// tenx merge (merge.hpp): N shard folders -> the run one `tenx run` would have recorded.
#include "tenx/eval/run/merge.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "runner_internal.hpp"
#include "tenx/util/atomic_file.hpp"
#include "tenx/util/error.hpp"

namespace tenx::eval {
namespace {

namespace fs = std::filesystem;
using detail::RecordKey;

std::string shard_name(const ShardInfo& s) { return std::to_string(s.index) + "/" + std::to_string(s.count); }

// Throws "<dir>: <what> differs from <first dir>: <there> there, <here> here".
struct Comparer {
  const ShardRun& first;
  const ShardRun& here;
  void same(const std::string& what, const std::string& there, const std::string& now) const {
    if (there == now) return;
    throw Error(here.dir.string(), what + " differs from " + first.dir.string() + ": '" + there + "' there, '" + now +
                                       "' here (only shards of one run can be merged)");
  }
};

void check_same_shards_run(const ShardRun& first, const ShardRun& here) {
  const RunManifest& a = first.run.manifest;
  const RunManifest& b = here.run.manifest;
  const Comparer c{first, here};
  // The same build: another version could score or count differently.
  c.same("the tenx version", a.tenx_version, b.tenx_version);
  c.same("the git commit", a.git_commit, b.git_commit);
  c.same("the compiler", a.compiler, b.compiler);
  c.same("the thread count (--threads)", std::to_string(a.threads), std::to_string(b.threads));
  c.same("the seed (--seed)", std::to_string(a.seed), std::to_string(b.seed));
  c.same("the item limit (--limit)", std::to_string(a.limit), std::to_string(b.limit));
  c.same("the number of shards (--shard I/N)", std::to_string(a.shard.count), std::to_string(b.shard.count));
  // The same prompting (docs/protocols.md): a shard under another protocol scored other prompts.
  c.same("the protocol (--protocol)", a.protocol_option, b.protocol_option);
  c.same("the tool format (--tool-format)", a.tool_format_option, b.tool_format_option);
  c.same("the choice method (--choice-method)", a.choice_method_option, b.choice_method_option);
  c.same("the worked examples (--shots)", std::to_string(a.shots), std::to_string(b.shots));
  c.same("the worked examples' seed", std::to_string(a.shot_seed), std::to_string(b.shot_seed));
  c.same("the worked examples' items", to_json(a)["prompting"]["shot_items"].dump(),
         to_json(b)["prompting"]["shot_items"].dump());
  auto names = [](const auto& list) {  // models or suites, by name
    std::string s;
    for (const auto& x : list) s += (s.empty() ? "" : ", ") + x.name;
    return s;
  };
  c.same("the models", names(a.models), names(b.models));
  for (size_t i = 0; i < a.models.size(); ++i) {
    const ModelInfo& x = a.models[i];
    const ModelInfo& y = b.models[i];
    c.same("the model '" + x.name + "' (sha256)", x.sha256, y.sha256);
    c.same("the model '" + x.name + "' projector (sha256)", x.projector_sha256, y.projector_sha256);
    c.same("the model '" + x.name + "' compute source", x.compute_source, y.compute_source);
    c.same("the model '" + x.name + "' latency source", x.latency_source, y.latency_source);
    c.same("the model '" + x.name + "' memory source", x.memory_source, y.memory_source);
    c.same("the model '" + x.name + "' protocol", x.protocol, y.protocol);
    c.same("the model '" + x.name + "' chat template (sha256)", x.chat_template_sha256, y.chat_template_sha256);
    c.same("the model '" + x.name + "' tool format (--tool-format)", x.tool_format, y.tool_format);
    c.same("the model '" + x.name + "' choice method (--choice-method)", x.choice_method, y.choice_method);
    c.same("the model '" + x.name + "' FLOPs per token", std::to_string(x.flops_per_token),
           std::to_string(y.flops_per_token));
  }
  c.same("the suites", names(a.suites), names(b.suites));
  for (size_t i = 0; i < a.suites.size(); ++i) {
    const SuiteRef& x = a.suites[i];
    const SuiteRef& y = b.suites[i];
    c.same("the suite '" + x.name + "' split", x.split, y.split);
    c.same("the suite '" + x.name + "' version", x.version, y.version);
    c.same("the suite '" + x.name + "' data (sha256)", x.sha256, y.sha256);
    c.same("the suite '" + x.name + "' selection size", std::to_string(a.shard.selection_size.at(x.name)),
           std::to_string(b.shard.selection_size.at(y.name)));
  }
}

// Each shard's records are exactly its models × its selected items, once each.
std::map<RecordKey, const ItemRecord*> shard_records(const ShardRun& s) {
  const std::string file = (s.dir / "items.jsonl").string();
  const RunManifest& m = s.run.manifest;
  std::set<RecordKey> expected;
  for (const ModelInfo& model : m.models)
    for (const SuiteRef& suite : m.suites)
      for (const std::string& id : m.selected_items.at(suite.name)) expected.insert({model.name, suite.name, id});
  std::map<RecordKey, const ItemRecord*> out;
  for (const ItemRecord& r : s.run.records) {
    const RecordKey key = detail::key_of(r);
    const std::string what = "the record of model '" + r.model + "', suite '" + r.suite + "', item '" + r.item + "'";
    if (!expected.count(key)) throw Error(file, what + " is not in this shard's selection (run.json)");
    if (!out.emplace(key, &r).second) throw Error(file, what + " appears twice");
  }
  if (out.size() != expected.size())
    throw Error(file, std::to_string(expected.size() - out.size()) +
                          " records of this shard's selection are missing (the shard has not finished; continue "
                          "it with tenx run --resume)");
  return out;
}

// The shards' command line as one run's: without --shard, and with the merged folder as --out.
std::vector<std::string> merged_argv(const std::vector<std::string>& argv, const fs::path& out_dir) {
  std::vector<std::string> out;
  for (size_t i = 0; i < argv.size(); ++i) {
    if ((argv[i] == "--shard" || argv[i] == "--out" || argv[i] == "--resume") && i + 1 < argv.size()) {
      ++i;
      continue;
    }
    out.push_back(argv[i]);
  }
  out.insert(out.end(), {"--out", out_dir.string()});
  return out;
}

// "A" when every shard says A, else the distinct values in shard order joined by " | ".
std::string joined_distinct(const std::vector<std::string>& values) {
  std::vector<std::string> seen;
  for (const std::string& v : values)
    if (std::find(seen.begin(), seen.end(), v) == seen.end()) seen.push_back(v);
  std::string out;
  for (const std::string& v : seen) out += (out.empty() ? "" : " | ") + v;
  return out;
}

}  // namespace

RunResult merge_shards(const std::vector<ShardRun>& shards, const fs::path& out_dir) {
  if (shards.empty()) throw Error("tenx merge", "give the run folders of the shards");
  for (const ShardRun& s : shards)
    if (s.run.manifest.shard.count == 0)
      throw Error(s.dir.string(), "not a shard (its run.json has no \"shard\": it was run without --shard I/N)");
  for (const ShardRun& s : shards) {
    const std::string file = (s.dir / "run.json").string();
    std::set<std::string> models, suites;
    for (const ModelInfo& model : s.run.manifest.models)
      if (!models.insert(model.name).second) throw Error(file, "the model '" + model.name + "' is listed twice");
    for (const SuiteRef& suite : s.run.manifest.suites) {
      if (!suites.insert(suite.name).second) throw Error(file, "the suite '" + suite.name + "' is listed twice");
      if (!s.run.manifest.selected_items.count(suite.name) || !s.run.manifest.shard.positions.count(suite.name))
        throw Error(file, "the suite '" + suite.name + "' has no selected_items or shard entry");
    }
  }
  const ShardRun& first = shards[0];
  for (size_t i = 1; i < shards.size(); ++i) check_same_shards_run(first, shards[i]);

  // Every index 1..N exactly once.
  const int n = first.run.manifest.shard.count;
  std::map<int, const ShardRun*> by_index;
  for (const ShardRun& s : shards) {
    const ShardInfo& info = s.run.manifest.shard;
    auto [it, fresh] = by_index.emplace(info.index, &s);
    if (!fresh)
      throw Error(s.dir.string(), "shard " + shard_name(info) + " again: " + it->second->dir.string() +
                                      " is shard " + shard_name(info) + " too (overlapping shards)");
  }
  std::string given;
  for (const auto& [index, s] : by_index)
    given += (given.empty() ? "" : ", ") + std::to_string(index) + "/" + std::to_string(n) + " in " + s->dir.string();
  for (int i = 1; i <= n; ++i)
    if (!by_index.count(i))
      throw Error("tenx merge", "shard " + std::to_string(i) + "/" + std::to_string(n) + " is missing (given: " + given +
                                    "); every shard 1.." + std::to_string(n) + " is needed");

  // Per suite, the whole selection back in order: position -> (item id, its shard).
  const RunManifest& m0 = first.run.manifest;
  std::map<std::string, std::vector<std::string>> selection;
  for (const SuiteRef& suite : m0.suites) {
    const auto size = static_cast<size_t>(m0.shard.selection_size.at(suite.name));
    size_t held = 0;  // checked before the selection is allocated: its size is read from a file
    for (const auto& [index, s] : by_index) held += s->run.manifest.shard.positions.at(suite.name).size();
    if (held != size)
      throw Error("tenx merge", "the shards hold " + std::to_string(held) + " items of suite '" + suite.name +
                                    "', its selection has " + std::to_string(size) + " (given: " + given + ")");
    std::vector<std::string>& ids = selection[suite.name];
    ids.assign(size, "");
    std::vector<const ShardRun*> owner(size, nullptr);
    std::map<std::string, const ShardRun*> seen_ids;
    for (const auto& [index, s] : by_index) {
      const std::vector<int64_t>& positions = s->run.manifest.shard.positions.at(suite.name);
      const std::vector<std::string>& shard_ids = s->run.manifest.selected_items.at(suite.name);
      for (size_t k = 0; k < positions.size(); ++k) {
        const auto p = static_cast<size_t>(positions[k]);
        const std::string& id = shard_ids[k];
        if (owner[p])
          throw Error(s->dir.string(), "item " + std::to_string(p) + " of suite '" + suite.name + "' ('" + id +
                                           "') is also in " + owner[p]->dir.string() + " (overlapping shards)");
        auto [it, fresh] = seen_ids.emplace(id, s);
        if (!fresh)
          throw Error(s->dir.string(), "the item '" + id + "' of suite '" + suite.name + "' is also in " +
                                           it->second->dir.string() + " (overlapping shards)");
        owner[p] = s;
        ids[p] = id;
      }
    }
    for (size_t p = 0; p < size; ++p)
      if (!owner[p])
        throw Error("tenx merge", "item " + std::to_string(p) + " of suite '" + suite.name +
                                      "' is in none of the shards (given: " + given + ")");
  }

  RunResult merged;
  RunManifest& m = merged.manifest;
  m = m0;
  m.argv = merged_argv(m0.argv, out_dir);
  m.shard = ShardInfo{};
  m.selected_items = selection;
  std::vector<std::string> cpus, flags;
  for (const auto& [index, s] : by_index) {
    const RunManifest& sm = s->run.manifest;
    m.date = std::min(m.date, sm.date);  // ISO 8601 UTC: the earliest start
    cpus.push_back(sm.cpu_model);
    flags.push_back(sm.cpu_flags);
    m.merged_from.push_back({s->dir.string(), sm.shard.index, sm.shard.count, sm.date, sm.cpu_model});
    // Memory: the most any shard needed (each shard held the whole model).
    for (size_t i = 0; i < m.models.size(); ++i) {
      ModelInfo& x = m.models[i];
      const ModelInfo& y = sm.models[i];
      x.kv_bytes_peak = std::max(x.kv_bytes_peak, y.kv_bytes_peak);
      x.working_bytes = std::max(x.working_bytes, y.working_bytes);
      x.peak_rss_bytes = std::max(x.peak_rss_bytes, y.peak_rss_bytes);
    }
  }
  m.cpu_model = joined_distinct(cpus);
  m.cpu_flags = joined_distinct(flags);
  for (SuiteRef& suite : m.suites) suite.items_selected = static_cast<int64_t>(selection.at(suite.name).size());

  // Records in the canonical order: models, suites, the selection.
  std::map<RecordKey, const ItemRecord*> all;
  for (const auto& [index, s] : by_index)
    for (const auto& [key, record] : shard_records(*s)) all.emplace(key, record);
  for (const ModelInfo& model : m.models)
    for (const SuiteRef& suite : m.suites)
      for (const std::string& id : selection.at(suite.name))
        merged.records.push_back(*all.at(RecordKey{model.name, suite.name, id}));
  return merged;
}

void write_merged_run(const RunResult& run, const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !(fs::is_directory(dir, ec) && fs::is_empty(dir, ec)))
    throw Error(dir.string(), "the output folder is not empty; choose a new --out");
  fs::create_directories(dir, ec);
  if (ec) throw Error(dir.string(), "cannot create the output folder: " + ec.message());
  std::string lines;
  for (const ItemRecord& r : run.records) lines += detail::record_line(r);
  // The journal too, so the folder is a finished run in every respect (--resume finds all done).
  write_file_atomically(dir / "journal.jsonl", lines);
  write_file_atomically(dir / "items.jsonl", lines);
  write_file_atomically(dir / "run.json", detail::manifest_text(run.manifest));
}

}  // namespace tenx::eval
