// `tenx run`: the run folder (run.json, journal.jsonl, items.jsonl), resume, and the loop over
// models × suites × selected items. Item execution is item_runner.hpp's.
#include "tenx/eval/run/runner.hpp"

#include <algorithm>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "runner_internal.hpp"
#include "tenx/eval/run/item_runner.hpp"
#include "tenx/eval/run/protocol.hpp"
#include "tenx/chat/jinja.hpp"
#include "tenx/model/model.hpp"
#include "tenx/model/tokenizer.hpp"
#include "tenx/model/vision.hpp"
#include "tenx/remote/endpoint.hpp"
#include "tenx/suites/suite_io.hpp"
#include "tenx/util/atomic_file.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/process.hpp"
#include "tenx/util/read_file.hpp"
#include "tenx/util/sha256.hpp"

namespace tenx::eval {
namespace {

namespace fs = std::filesystem;
using detail::RecordKey;

struct LoadedSuite {
  suites::Suite suite;
  SuiteRef ref;
  std::vector<const suites::Item*> selected;  // run order
  ShotTable shots;                            // --shots: worked examples per task
};

std::vector<std::string> expand_suite_names(const RunOptions& o) {
  if (o.suites.size() == 1 && o.suites[0] == "all") {
    const fs::path dir = suites::shipped_suites_dir(o.suites_dir);
    std::vector<std::string> names;
    if (fs::is_directory(dir))
      for (const auto& e : fs::directory_iterator(dir))
        if (fs::exists(e.path() / "suite.json")) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    if (names.empty()) throw Error(dir.string(), "no shipped suites found (--suites all)");
    return names;
  }
  return o.suites;
}

void check_options(const RunOptions& o) {
  if (o.models.empty()) throw Error("--model", "give at least one model as NAME=PATH");
  std::set<std::string> names;
  for (const ModelArg& m : o.models) {
    if (m.name.empty() || m.path.empty()) throw Error("--model", "expected NAME=PATH, got '" + m.name + "=" + m.path + "'");
    if (!names.insert(m.name).second) throw Error("--model", "the name '" + m.name + "' is given twice");
    if (remote::is_endpoint(m.path)) {
      (void)remote::parse_endpoint(m.path, "--model " + m.name, m.name);  // bad URLs fail before anything runs
      continue;
    }
    if (!fs::exists(m.path)) throw Error(m.path, "no such model file or folder");
  }
  for (const auto& [name, file] : o.arch_files) {
    if (!names.count(name)) throw Error("--arch", "'" + name + "' names no --model");
    for (const ModelArg& m : o.models)
      if (m.name == name && !remote::is_endpoint(m.path))
        throw Error("--arch", "'" + name + "' is a local model; --arch is for remote models (http://...)");
    if (!fs::exists(file)) throw Error(file, "--arch: no such file");
  }
  if (o.suites.empty()) throw Error("--suites", "give 'all' or a comma-separated list of suites");
  if (o.out_dir.empty()) throw Error("--out", "a run folder is needed");
  if (o.limit < 0) throw Error("--limit", "must be >= 0");
  if (!o.protocol.empty()) (void)parse_protocol(o.protocol, "--protocol");
  check_tool_format_option(o.tool_format);
  if (!o.choice_method.empty()) (void)parse_choice_method(o.choice_method, "--choice-method");
  if (o.shots < 0) throw Error("--shots", "must be >= 0");
  // A remote model's protocol is its API's: chat for api=chat (the server applies the template),
  // completion for /v1/completions.
  for (const ModelArg& m : o.models) {
    if (!remote::is_endpoint(m.path) || o.protocol.empty()) continue;
    const bool chat_api = remote::parse_endpoint(m.path, "--model " + m.name, m.name).api == "chat";
    if (o.protocol == "chat" && !chat_api)
      throw Error("--model " + m.name, "--protocol chat needs the server's chat API: add '&api=chat' to the "
                                       "fragment (" + m.path + (m.path.find('#') == std::string::npos ? "#model=ID" : "") + "&api=chat)");
    if (o.protocol == "completion" && chat_api)
      throw Error("--model " + m.name, "--protocol completion needs the completions API, but the URL says api=chat");
  }
  if ((o.shard_count != 0 || o.shard_index != 0) &&
      (o.shard_count < 1 || o.shard_index < 1 || o.shard_index > o.shard_count))
    throw Error("--shard", "expected I/N with 1 <= I <= N, got " + std::to_string(o.shard_index) + "/" +
                               std::to_string(o.shard_count));
}

std::vector<LoadedSuite> load_suites(const RunOptions& o) {
  std::vector<LoadedSuite> out;
  std::set<std::string> seen;
  for (const std::string& name : expand_suite_names(o)) {
    LoadedSuite ls;
    const fs::path dir = suites::resolve_suite(name, o.suites_dir);
    // The run's split, and the train split the worked examples are drawn from (protocol.hpp).
    std::set<std::string> splits = {o.split};
    if (o.shots > 0) splits.insert(kShotSplit);
    ls.suite = suites::load_suite(dir, splits);
    if (!seen.insert(ls.suite.info.name).second)
      throw Error("--suites", "the suite '" + ls.suite.info.name + "' is given twice");
    const std::vector<suites::Item>& items = ls.suite.split(o.split);
    ls.ref.name = ls.suite.info.name;
    ls.ref.path = fs::absolute(ls.suite.dir).lexically_normal().string();
    ls.ref.version = ls.suite.info.version;
    ls.ref.split = o.split;
    const suites::SplitInfo* split = ls.suite.info.find_split(o.split);
    const fs::path file = ls.suite.dir / (split ? split->file : o.split + ".jsonl");
    ls.ref.sha256 = sha256_file(file);
    ls.ref.items_total = static_cast<int64_t>(items.size());
    out.push_back(std::move(ls));
  }
  return out;
}

// Fixes each suite's selected items: drawn now, or (resume) taken from run.json.
void select(std::vector<LoadedSuite>& suites, RunManifest& m, const RunManifest* previous) {
  for (LoadedSuite& ls : suites) {
    const std::vector<suites::Item>& items = ls.suite.split(ls.ref.split);
    std::vector<std::string> ids;
    if (previous) {
      auto it = previous->selected_items.find(ls.ref.name);
      if (it == previous->selected_items.end())
        throw Error("run.json", "selected_items has no entry for suite '" + ls.ref.name + "'");
      ids = it->second;
      if (previous->shard.count > 0) {
        m.shard.selection_size[ls.ref.name] = previous->shard.selection_size.at(ls.ref.name);
        m.shard.positions[ls.ref.name] = previous->shard.positions.at(ls.ref.name);
      }
    } else if (m.shard.count > 0) {
      const std::vector<size_t> selection = select_items(items, m.limit, m.seed, ls.ref.name);
      std::vector<int64_t>& positions = m.shard.positions[ls.ref.name];
      for (size_t p : shard_positions(items, selection, m.shard.index, m.shard.count, m.seed, ls.ref.name)) {
        ids.push_back(items[selection[p]].id);
        positions.push_back(static_cast<int64_t>(p));
      }
      m.shard.selection_size[ls.ref.name] = static_cast<int64_t>(selection.size());
    } else {
      for (size_t i : select_items(items, m.limit, m.seed, ls.ref.name)) ids.push_back(items[i].id);
    }
    std::map<std::string, const suites::Item*> by_id;
    for (const suites::Item& item : items) by_id[item.id] = &item;
    for (const std::string& id : ids) {
      auto it = by_id.find(id);
      if (it == by_id.end()) throw Error("run.json", "suite '" + ls.ref.name + "' has no item '" + id + "'");
      ls.selected.push_back(it->second);
    }
    ls.ref.items_selected = static_cast<int64_t>(ls.selected.size());
    m.selected_items[ls.ref.name] = ids;
    m.suites.push_back(ls.ref);
  }
}

// A resumed run must be the same run: same models, suites (and their data), split, limit, seed.
void check_same_run(const RunManifest& was, const RunManifest& now, const fs::path& file) {
  auto differ = [&](const std::string& what, const std::string& a, const std::string& b) {
    throw Error(file.string(), "the run in this folder has " + what + " " + a + ", the arguments give " + b +
                                   " (--resume continues the same run; use a new --out folder for a different one)");
  };
  auto join_models = [](const RunManifest& m) {
    std::string s;
    for (const auto& x : m.models) s += (s.empty() ? "" : ", ") + x.name + "=" + x.path;
    return "[" + s + "]";
  };
  auto join_suites = [](const RunManifest& m) {
    std::string s;
    for (const auto& x : m.suites) s += (s.empty() ? "" : ", ") + x.name;
    return "[" + s + "]";
  };
  if (join_models(was) != join_models(now)) differ("models", join_models(was), join_models(now));
  if (join_suites(was) != join_suites(now)) differ("suites", join_suites(was), join_suites(now));
  for (size_t i = 0; i < was.suites.size(); ++i) {
    if (was.suites[i].split != now.suites[i].split) differ("split", was.suites[i].split, now.suites[i].split);
    if (was.suites[i].sha256 != now.suites[i].sha256)
      differ("suite '" + was.suites[i].name + "' data sha256", was.suites[i].sha256, now.suites[i].sha256);
  }
  if (was.limit != now.limit) differ("--limit", std::to_string(was.limit), std::to_string(now.limit));
  if (was.seed != now.seed) differ("--seed", std::to_string(was.seed), std::to_string(now.seed));
  auto shard_text = [](const RunManifest& m) {
    return m.shard.count > 0 ? std::to_string(m.shard.index) + "/" + std::to_string(m.shard.count) : "(none)";
  };
  if (shard_text(was) != shard_text(now)) differ("--shard", shard_text(was), shard_text(now));
  if (was.protocol_option != now.protocol_option) differ("--protocol", was.protocol_option, now.protocol_option);
  if (was.tool_format_option != now.tool_format_option)
    differ("--tool-format", was.tool_format_option, now.tool_format_option);
  if (was.choice_method_option != now.choice_method_option)
    differ("--choice-method", was.choice_method_option, now.choice_method_option);
  if (was.shots != now.shots) differ("--shots", std::to_string(was.shots), std::to_string(now.shots));
}

// Per suite, the worked examples: drawn now, or (resume) the recorded ones.
void draw_all_shots(std::vector<LoadedSuite>& suites, RunManifest& m, const RunManifest* previous) {
  for (LoadedSuite& ls : suites) {
    if (m.shots <= 0) continue;
    if (previous) {
      auto it = previous->shot_items.find(ls.ref.name);
      if (it != previous->shot_items.end()) ls.shots = shots_from_ids(ls.suite, it->second);
    } else {
      ls.shots = draw_shots(ls.suite, m.shots, m.shot_seed);
    }
    m.shot_items[ls.ref.name] = shot_ids(ls.shots);
  }
}

// The model's protocol: as asked, or chat when it has a template. Throws for chat without one.
Protocol model_protocol(const RunOptions& o, const ModelArg& arg, const std::optional<ChatFormat>& chat) {
  if (o.protocol.empty()) return chat ? Protocol::chat : Protocol::completion;
  const Protocol p = parse_protocol(o.protocol, "--protocol");
  if (p == Protocol::chat && !chat)
    throw Error(arg.path, "--protocol chat: the model has no chat template (tokenizer.chat_template)");
  return p;
}

struct ModelRun {
  Model model;
  std::optional<Tokenizer> tokenizer;
  detail::ImageInput image;
};

std::unique_ptr<ModelRun> load_model(const ModelArg& arg, const RunOptions& options) {
  auto run = std::make_unique<ModelRun>();
  run->model = Model::load(arg.path);
  if (!run->model.file.meta.contains("tokenizer.ggml.model"))
    throw Error(arg.path, "the model has no tokenizer (tokenizer.ggml.* keys); tenx run needs one");
  run->tokenizer = Tokenizer::from_metadata(run->model.file.meta, arg.path);
  run->image = detail::load_image_input(arg, options.mmproj_files, run->model);
  return run;
}

}  // namespace

RunResult run_evaluation(const RunOptions& options, const ProgressFn& progress) {
  check_options(options);
  std::vector<LoadedSuite> suites = load_suites(options);

  const fs::path dir = options.out_dir;
  const fs::path run_json = dir / "run.json";
  std::optional<RunManifest> previous;
  if (options.resume) {
    if (!fs::exists(run_json)) throw Error(run_json.string(), "no run to resume here (run.json is missing)");
    const std::string text = read_file(run_json, "the run manifest");
    Json j = Json::parse(text, nullptr, false);
    if (j.is_discarded()) throw Error(run_json.string(), "not valid JSON");
    previous = run_manifest_from_json(j, run_json.string());
  } else if (fs::exists(dir) && !(fs::is_directory(dir) && fs::is_empty(dir))) {
    throw Error(dir.string(), "the run folder is not empty; continue that run with --resume, or choose another --out");
  }
  std::error_code mkdir_error;
  fs::create_directories(dir, mkdir_error);
  if (mkdir_error) throw Error(dir.string(), "cannot create the run folder: " + mkdir_error.message());

  RunManifest m;
  detail::fill_environment(m);
  if (previous) m.date = previous->date;  // the run started then
  m.argv = options.argv;
  m.threads = options.threads;
  m.seed = options.seed;
  m.limit = options.limit;
  m.shard.index = options.shard_index;
  m.shard.count = options.shard_count;
  m.protocol_option = options.protocol.empty() ? "default" : options.protocol;
  m.tool_format_option = options.tool_format.empty() ? "default" : options.tool_format;
  m.choice_method_option = options.choice_method.empty() ? "default" : options.choice_method;
  m.shots = options.shots;
  m.shot_seed = options.seed;
  for (const ModelArg& arg : options.models) {
    ModelInfo info;
    info.name = arg.name;
    info.path = arg.path;
    m.models.push_back(info);
  }
  select(suites, m, previous ? &*previous : nullptr);
  if (previous) check_same_run(*previous, m, run_json);
  draw_all_shots(suites, m, previous ? &*previous : nullptr);
  if (previous) {
    // Keep what the earlier process learnt about the models it finished.
    for (size_t i = 0; i < m.models.size(); ++i) m.models[i] = previous->models[i];
  }
  write_file_atomically(run_json, detail::manifest_text(m));

  detail::Journal journal(dir / "journal.jsonl");
  Progress p;
  for (const LoadedSuite& ls : suites) p.total_all += static_cast<int64_t>(ls.selected.size());
  p.total_all *= static_cast<int64_t>(options.models.size());
  const double t0 = now_seconds();

  std::vector<detail::SuiteItems> suite_items;
  for (const LoadedSuite& ls : suites) suite_items.push_back({ls.ref.name, ls.selected, &ls.shots});

  for (size_t mi = 0; mi < options.models.size(); ++mi) {
    const ModelArg& arg = options.models[mi];
    if (remote::is_endpoint(arg.path)) {
      detail::run_remote_model(options, mi, suite_items, journal, p, progress, t0, m.models[mi]);
      write_file_atomically(run_json, detail::manifest_text(m));
      continue;
    }
    auto done_with = [&](const LoadedSuite& ls, const suites::Item* item) {
      return journal.done().count(RecordKey{arg.name, ls.ref.name, item->id}) > 0;
    };
    size_t remaining = 0;
    for (const LoadedSuite& ls : suites)
      for (const suites::Item* item : ls.selected) remaining += done_with(ls, item) ? 0 : 1;
    if (remaining == 0 && !m.models[mi].sha256.empty()) {
      for (const LoadedSuite& ls : suites) p.done_all += static_cast<int64_t>(ls.selected.size());
      continue;  // finished by an earlier process
    }
    std::unique_ptr<ModelRun> loaded = load_model(arg, options);
    ModelInfo info = detail::describe_model(arg.name, arg.path, loaded->model, loaded->image.path);
    if (loaded->image.clip) info.projector_type = clip_projector_name(loaded->image.clip->hparams().projector);
    else if (loaded->image.patch) info.projector_type = "tenx-patch";
    if (!m.models[mi].sha256.empty() && m.models[mi].sha256 != info.sha256)
      throw Error(arg.path, "the model file changed since this run started (sha256 " + m.models[mi].sha256 +
                                " then, " + info.sha256 + " now)");
    std::optional<ChatFormat> chat;
    if (options.protocol != "completion") {  // a template that does not parse matters only to chat
      try {
        chat = chat_format_of(loaded->model.file.meta, arg.path);
      } catch (const jinja::SyntaxError& e) {
        throw Error(arg.path, std::string("tokenizer.chat_template does not parse: ") + e.what() +
                                  " (--protocol completion runs the model without it)");
      }
    }
    const Protocol protocol = model_protocol(options, arg, chat);
    info.protocol = protocol_name(protocol);
    if (protocol == Protocol::chat) {
      info.chat_template_sha256 = chat->sha256;
      chat->tool_format = resolve_tool_format(options.tool_format, *chat);
      info.tool_format = agent::tool_format_name(chat->tool_format);
    }
    if (!m.models[mi].sha256.empty() && m.models[mi].protocol != info.protocol)
      throw Error(run_json.string(), "model '" + arg.name + "' ran under the " + m.models[mi].protocol +
                                         " protocol, now it would run under " + info.protocol +
                                         " (--resume continues the same run)");
    // A chat run from before tool formats recorded none: its agent items used tenx's syntax.
    const std::string was_format =
        m.models[mi].tool_format.empty() && m.models[mi].protocol == "chat" ? "tenx" : m.models[mi].tool_format;
    if (!m.models[mi].sha256.empty() && was_format != info.tool_format)
      throw Error(run_json.string(), "model '" + arg.name + "' called tools in the '" + was_format +
                                         "' format, now it would use '" + info.tool_format +
                                         "' (--resume continues the same run; give the same --tool-format)");
    const ChoiceMethod choice_method =
        options.choice_method.empty() ? ChoiceMethod::loglik : parse_choice_method(options.choice_method, "--choice-method");
    info.choice_method = choice_method_name(choice_method);
    ItemRunner runner(loaded->model, *loaded->tokenizer, loaded->image.patch ? &*loaded->image.patch : nullptr,
                      options.threads, ItemLimits{}, 0, options.batch);
    runner.set_choice_method(choice_method);
    if (loaded->image.clip) runner.set_vision_encoder(&*loaded->image.clip);
    for (const LoadedSuite& ls : suites) {
      runner.set_protocol(protocol, chat ? &*chat : nullptr, &ls.shots);
      p.model = arg.name;
      p.suite = ls.ref.name;
      p.done = 0;
      p.total = static_cast<int64_t>(ls.selected.size());
      std::vector<const suites::Item*> todo;
      for (const suites::Item* item : ls.selected) {
        if (!done_with(ls, item)) {
          todo.push_back(item);
          continue;
        }
        ++p.done;
        ++p.done_all;
      }
      p.elapsed_seconds = now_seconds() - t0;
      if (progress) progress(p);
      // Up to runner.batch() items in flight; each record is journalled as its item finishes.
      runner.run_many(todo, [&](size_t, ItemRecord&& r) {
        r.model = arg.name;
        r.suite = ls.ref.name;
        journal.append(r);
        ++p.done;
        ++p.done_all;
        p.elapsed_seconds = now_seconds() - t0;
        if (progress) progress(p);
      });
    }
    journal.flush();
    info.batch = runner.batch();
    // One item's KV peak: a model's memory figure does not depend on --batch (K items in flight
    // hold up to K times it).
    info.kv_bytes_peak = runner.decoder().kv_bytes_sequence_peak();
    info.working_bytes = runner.decoder().working_bytes();
    info.peak_rss_bytes = peak_rss_bytes();
    m.models[mi] = info;
    write_file_atomically(run_json, detail::manifest_text(m));
  }

  RunResult result;
  result.manifest = m;
  std::string lines;
  for (const ModelArg& arg : options.models)
    for (const LoadedSuite& ls : suites)
      for (const suites::Item* item : ls.selected) {
        const ItemRecord& r = journal.done().at(RecordKey{arg.name, ls.ref.name, item->id});
        lines += detail::record_line(r);
        result.records.push_back(r);
      }
  write_file_atomically(dir / "items.jsonl", lines);
  write_file_atomically(run_json, detail::manifest_text(m));
  return result;
}

}  // namespace tenx::eval
