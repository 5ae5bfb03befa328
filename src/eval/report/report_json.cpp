// report.json (docs/report.schema.json, docs/report.md): environment, conventions, models,
// suites, metrics, the compact per-item rows `tenx compare` pairs, and the verdict.
#include <algorithm>
#include <map>

#include "report_parts.hpp"
#include "tenx/eval/run/choice_letter.hpp"

namespace tenx::eval {
namespace {

Json nonempty_or_null(const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); }

Json conventions_json(double confidence) {
  Json j;
  j["flops"] = {
      {"definition",
       "FLOPs counted by the inference core for the work it did on the item (docs/flops.md): one "
       "multiply-add = 2 FLOPs; a [T x in]·[in x out] matrix product = 2·T·in·out whatever the "
       "storage type; attention 4·(p+1)·head_dim per query head per layer; norms, RoPE, SwiGLU, "
       "softmax and residuals per element; embedding lookups 0"},
      {"multiply_add", 2},
      {"naive",
       "flops_naive: what the item would cost without shared prefixes (a choice item's context "
       "recomputed for every choice)"},
      {"source", "docs/flops.md"}};
  j["confidence"] = confidence;
  j["accuracy_interval"] =
      "Wilson score interval for proportions; seeded percentile bootstrap for means of partial "
      "scores";
  j["not_applicable"] =
      "items a model cannot take (image items without a projector) are excluded from its figures "
      "and counted as not_applicable; a group without applicable items has null accuracy, never 0";
  j["errors"] = "applicable items that failed to run count as wrong (score 0)";
  j["latency"] =
      "seconds of wall time per item (steady clock); percentiles interpolate linearly (numpy "
      "'linear')";
  j["difference"] = "candidate - baseline; ratios are baseline / candidate";
  return j;
}

// How the model was prompted (docs/protocols.md): its protocol, the template and tool-call format
// under chat, and the run's worked examples (the same for every model of a run).
Json prompting_json(const ModelInfo& info, const RunManifest& run) {
  Json shot_items = Json::object();
  for (const auto& [suite, tasks] : run.shot_items) {
    Json t = Json::object();
    for (const auto& [task, ids] : tasks) t[task] = ids;
    shot_items[suite] = t;
  }
  Json j = {{"name", info.protocol}};
  if (!info.chat_template_sha256.empty()) j["chat_template_sha256"] = info.chat_template_sha256;
  if (!info.tool_format.empty()) j["tool_format"] = info.tool_format;  // chat: docs/tool-calls.md
  if (!info.choice_method.empty()) {  // docs/protocols.md; absent for runs before it
    j["choice_method"] = info.choice_method;
    if (info.choice_method == "letter") j["choice_letter_rule"] = kLetterRule;
  }
  j["shots"] = run.shots;
  j["shot_seed"] = run.shot_seed;
  j["shot_items"] = shot_items;
  return j;
}

Json model_json(const ModelMetrics& mm, const ModelInfo& info, const RunManifest& run) {
  Json j = to_json(mm);
  j["protocol"] = prompting_json(info, run);
  j["projector_path"] = nonempty_or_null(info.projector_path);
  j["projector_sha256"] = nonempty_or_null(info.projector_sha256);
  j["projector_type"] = nonempty_or_null(info.projector_type);
  j["config"] = {{"n_embd", info.n_embd}, {"n_layer", info.n_layer}, {"n_head", info.n_head},
                 {"n_head_kv", info.n_head_kv}, {"n_ff", info.n_ff}, {"n_vocab", info.n_vocab},
                 {"n_ctx", info.n_ctx}};
  return j;
}

Json suite_json(const SuiteRef& s) {
  return Json{{"name", s.name},       {"path", s.path},
              {"version", s.version}, {"split", s.split},
              {"sha256", s.sha256},   {"items_total", s.items_total},
              {"items_selected", s.items_selected}};
}

// Per model × suite, parallel arrays over its items in the run's order (the same item order for
// every model, so `tenx compare` pairs item i with item i after checking the ids). A not
// applicable item has applicable false, correct false and score 0 (readers must skip it).
Json items_json(const RunResult& run) {
  Json out = Json::array();
  std::map<std::pair<std::string, std::string>, std::size_t> index;
  for (const ItemRecord& r : run.records) {
    auto [it, fresh] = index.try_emplace({r.model, r.suite}, out.size());
    if (fresh) {
      Json g;
      g["model"] = r.model;
      g["suite"] = r.suite;
      for (const char* c : {"ids", "tasks", "applicable", "correct", "score", "seconds", "flops",
                            "tokens_in", "tokens_out"})
        g[c] = Json::array();
      out.push_back(std::move(g));
    }
    Json& g = out[it->second];
    const bool counted = r.applicable && r.error.empty();
    g["ids"].push_back(r.item);
    g["tasks"].push_back(r.task);
    g["applicable"].push_back(r.applicable);
    g["correct"].push_back(counted && r.correct);
    g["score"].push_back(counted ? r.score : 0.0);
    g["seconds"].push_back(r.seconds);
    g["flops"].push_back(r.flops);
    g["tokens_in"].push_back(r.tokens_in);
    g["tokens_out"].push_back(r.tokens_out);
  }
  return out;
}

}  // namespace

Json environment_json(const RunManifest& m) {
  Json j;
  j["tenx_version"] = m.tenx_version;
  j["git_commit"] = m.git_commit;
  j["compiler"] = m.compiler;
  j["cpu_model"] = m.cpu_model;
  j["cpu_flags"] = m.cpu_flags;
  j["threads"] = m.threads;
  j["seed"] = m.seed;
  j["limit"] = m.limit;
  j["argv"] = m.argv;
  j["date"] = m.date;
  return j;
}

Json report_json(const RunResult& run, const RunMetrics& metrics, const ClaimVerdict* verdict) {
  Json j;
  j["format"] = kReportFormat;
  j["kind"] = "tenx-report";
  j["environment"] = environment_json(run.manifest);
  j["conventions"] = conventions_json(metrics.confidence);
  j["suites"] = Json::array();
  for (const SuiteRef& s : run.manifest.suites) j["suites"].push_back(suite_json(s));
  Json m;
  m["confidence"] = metrics.confidence;
  m["models"] = Json::array();
  for (std::size_t i = 0; i < metrics.models.size(); ++i)
    m["models"].push_back(model_json(metrics.models[i], run.manifest.models.at(i), run.manifest));
  m["suites"] = Json::array();
  for (const GroupMetrics& g : metrics.suites) m["suites"].push_back(to_json(g));
  m["tasks"] = Json::array();
  for (const GroupMetrics& g : metrics.tasks) m["tasks"].push_back(to_json(g));
  j["metrics"] = std::move(m);
  j["items"] = items_json(run);
  j["verdict"] = verdict ? to_json(*verdict) : Json(nullptr);
  return j;
}

}  // namespace tenx::eval
