// The metrics layer (metrics.hpp): per group of records the accuracy with its interval, the
// compute and tokens spent and the per-item latency; per model the memory and training compute.
#include "tenx/eval/report/metrics.hpp"

#include "report_parts.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "tenx/eval/stats/bootstrap.hpp"
#include "tenx/util/error.hpp"

namespace tenx::eval {
namespace {

Estimate wilson_estimate(std::uint64_t successes, std::uint64_t trials, double confidence) {
  Estimate e;
  e.n = trials;
  e.value = static_cast<double>(successes) / static_cast<double>(trials);
  e.ci = wilson_interval(successes, trials, confidence);
  e.method = "wilson";
  return e;
}

// Wilson when every value is 0 or 1 (the closed form), else the seeded bootstrap of the mean.
Estimate mean_estimate(const std::vector<double>& values, const MetricsOptions& o) {
  const bool binary =
      std::all_of(values.begin(), values.end(), [](double v) { return v == 0.0 || v == 1.0; });
  if (binary) {
    const auto ones = static_cast<std::uint64_t>(std::count(values.begin(), values.end(), 1.0));
    return wilson_estimate(ones, values.size(), o.confidence);
  }
  BootstrapOptions b;
  b.resamples = o.bootstrap_resamples;
  b.confidence = o.confidence;
  b.seed = o.seed;
  const BootstrapResult r = bootstrap_mean(values, b);
  Estimate e;
  e.n = values.size();
  e.value = r.estimate;
  e.ci = r.interval;
  e.method = "bootstrap";
  return e;
}

LatencyMetrics latency_of(const std::vector<const ItemRecord*>& items) {
  LatencyMetrics l;
  std::vector<double> seconds, ttft, decode;
  for (const ItemRecord* r : items) {
    seconds.push_back(r->seconds);
    l.total_seconds += r->seconds;
    if (r->tokens_out >= 1) ttft.push_back(r->time_to_first_token);
    if (r->tokens_out >= 2) decode.push_back(r->decode_seconds_per_token);
  }
  std::sort(seconds.begin(), seconds.end());
  l.mean_seconds = l.total_seconds / static_cast<double>(seconds.size());
  l.p50_seconds = percentile_of_sorted(seconds, 50);
  l.p90_seconds = percentile_of_sorted(seconds, 90);
  l.p99_seconds = percentile_of_sorted(seconds, 99);
  l.items_per_second = l.total_seconds > 0 ? static_cast<double>(seconds.size()) / l.total_seconds : 0.0;
  if (!ttft.empty()) l.mean_time_to_first_token_seconds = mean(ttft);
  if (!decode.empty()) l.ms_per_decoded_token = 1000.0 * mean(decode);
  return l;
}

AgentMetrics agent_of(const std::vector<const ItemRecord*>& agents, const MetricsOptions& o) {
  AgentMetrics a;
  a.items = agents.size();
  std::uint64_t calls = 0, valid = 0;
  std::vector<double> match;
  double steps = 0;
  for (const ItemRecord* r : agents) {
    calls += static_cast<std::uint64_t>(std::max(r->calls, 0));
    valid += static_cast<std::uint64_t>(std::clamp(r->valid_calls, 0, std::max(r->calls, 0)));
    match.push_back(r->call_match);
    steps += r->steps;
    ++a.stop_reasons[r->stop_reason.empty() ? "none" : r->stop_reason];
  }
  if (calls > 0) a.valid_call_rate = wilson_estimate(valid, calls, o.confidence);
  a.call_match = mean_estimate(match, o);
  a.mean_steps = steps / static_cast<double>(agents.size());
  a.mean_calls = static_cast<double>(calls) / static_cast<double>(agents.size());
  return a;
}

}  // namespace

GroupMetrics group_metrics(const std::vector<const ItemRecord*>& records, std::string model,
                           std::string suite, std::string task, const MetricsOptions& options) {
  GroupMetrics g;
  g.model = std::move(model);
  g.suite = std::move(suite);
  g.task = std::move(task);
  std::set<std::string> types;
  std::vector<const ItemRecord*> applicable, choices, agents;
  for (const ItemRecord* r : records) {
    types.insert(r->type);
    ++g.items;
    if (!r->applicable) {
      ++g.not_applicable;
      continue;
    }
    applicable.push_back(r);
    if (!r->error.empty()) ++g.errors;
    if (r->type == "choice") choices.push_back(r);
    if (r->type == "agent") agents.push_back(r);
  }
  g.types.assign(types.begin(), types.end());
  g.applicable = applicable.size();
  if (applicable.empty()) return g;

  std::uint64_t right = 0;
  std::vector<double> scores;
  for (const ItemRecord* r : applicable) {  // an item that could not be run counts as wrong
    const bool ran = r->error.empty();
    if (ran && r->correct) ++right;
    scores.push_back(ran ? r->score : 0.0);
  }
  g.accuracy = wilson_estimate(right, g.applicable, options.confidence);
  g.score = mean_estimate(scores, options);
  if (!choices.empty()) {
    std::uint64_t right_norm = 0;
    for (const ItemRecord* r : choices) right_norm += (r->error.empty() && r->correct_norm) ? 1 : 0;
    g.accuracy_norm = wilson_estimate(right_norm, choices.size(), options.confidence);
  }
  if (!agents.empty()) g.agent = agent_of(agents, options);

  ComputeMetrics& c = g.compute;
  for (const ItemRecord* r : applicable) {
    c.flops_total += static_cast<double>(r->flops);
    c.naive_flops_total += static_cast<double>(r->flops_naive);
    c.bytes_read_per_item += static_cast<double>(r->bytes_read);
    c.image_flops_total += static_cast<double>(r->image_flops);
    c.image_bytes_read_per_item += static_cast<double>(r->image_bytes_read);
    c.tokens_in_total += r->tokens_in;
    c.tokens_out_total += r->tokens_out;
  }
  const double n = static_cast<double>(g.applicable);
  c.flops_per_item = c.flops_total / n;
  c.naive_flops_per_item = c.naive_flops_total / n;
  c.bytes_read_per_item /= n;
  c.image_flops_per_item = c.image_flops_total / n;
  c.image_bytes_read_per_item /= n;
  c.tokens_in_per_item = static_cast<double>(c.tokens_in_total) / n;
  c.tokens_out_per_item = static_cast<double>(c.tokens_out_total) / n;
  g.latency = latency_of(applicable);
  return g;
}

RunMetrics compute_metrics(const RunResult& run, const MetricsOptions& options) {
  RunMetrics m;
  m.confidence = options.confidence;
  const RunManifest& man = run.manifest;
  std::map<std::string, std::size_t> model_index, suite_index;
  for (std::size_t i = 0; i < man.models.size(); ++i) model_index[man.models[i].name] = i;
  for (std::size_t i = 0; i < man.suites.size(); ++i) suite_index[man.suites[i].name] = i;

  // model -> suite -> task -> records, in manifest order for models and suites
  std::vector<std::vector<std::map<std::string, std::vector<const ItemRecord*>>>> by(
      man.models.size(), std::vector<std::map<std::string, std::vector<const ItemRecord*>>>(man.suites.size()));
  for (const ItemRecord& r : run.records) {
    auto mi = model_index.find(r.model);
    if (mi == model_index.end())
      throw Error("run", fmt::format("item {}/{}: model '{}' is not in the manifest", r.suite, r.item, r.model));
    auto si = suite_index.find(r.suite);
    if (si == suite_index.end())
      throw Error("run", fmt::format("item {}/{}: suite '{}' is not in the manifest", r.suite, r.item, r.suite));
    by[mi->second][si->second][r.task].push_back(&r);
  }

  for (std::size_t mi = 0; mi < man.models.size(); ++mi) {
    const ModelInfo& info = man.models[mi];
    ModelMetrics mm;
    mm.model = info.name;
    mm.path = info.path;
    mm.sha256 = info.sha256;
    mm.architecture = info.architecture;
    mm.n_params = info.n_params;
    mm.flops_per_token = info.flops_per_token;
    mm.has_projector = !info.projector_path.empty();
    mm.batch = info.batch;
    mm.memory = {info.weight_bytes_by_type, info.weight_bytes, info.kv_bytes_peak, info.working_bytes,
                 info.peak_rss_bytes};
    mm.training = {info.training_flops, info.training_tokens, info.training_seconds,
                   info.training_flops_estimated};
    mm.compute_source = info.compute_source;
    mm.latency_source = info.latency_source;
    mm.memory_source = info.memory_source;
    for (std::size_t si = 0; si < man.suites.size(); ++si) {
      std::vector<const ItemRecord*> all;
      for (const auto& [task, recs] : by[mi][si]) {
        m.tasks.push_back(group_metrics(recs, info.name, man.suites[si].name, task, options));
        all.insert(all.end(), recs.begin(), recs.end());
      }
      GroupMetrics g = group_metrics(all, info.name, man.suites[si].name, "", options);
      mm.items += g.items;
      mm.applicable += g.applicable;
      mm.not_applicable += g.not_applicable;
      mm.errors += g.errors;
      m.suites.push_back(std::move(g));
    }
    m.models.push_back(std::move(mm));
  }
  return m;
}

// --- JSON ----------------------------------------------------------------------------------------

namespace {
Json opt_estimate(const std::optional<Estimate>& e) { return e ? to_json(*e) : Json(nullptr); }
}  // namespace

Json to_json(const Estimate& e) {
  Json j;
  j["value"] = e.value;
  j["lower"] = e.ci.lower;
  j["upper"] = e.ci.upper;
  j["n"] = e.n;
  j["method"] = e.method;
  return j;
}

Json to_json(const GroupMetrics& g) {
  Json j;
  j["model"] = g.model;
  j["suite"] = g.suite;
  if (!g.task.empty()) j["task"] = g.task;
  j["types"] = g.types;
  j["items"] = g.items;
  j["applicable"] = g.applicable;
  j["not_applicable"] = g.not_applicable;
  j["errors"] = g.errors;
  j["accuracy"] = opt_estimate(g.accuracy);
  j["accuracy_norm"] = opt_estimate(g.accuracy_norm);
  j["score"] = opt_estimate(g.score);
  if (g.agent) {
    const AgentMetrics& a = *g.agent;
    Json ja;
    ja["items"] = a.items;
    ja["valid_call_rate"] = opt_estimate(a.valid_call_rate);
    ja["call_match"] = to_json(a.call_match);
    ja["mean_steps"] = a.mean_steps;
    ja["mean_calls"] = a.mean_calls;
    ja["stop_reasons"] = Json::object();
    for (const auto& [k, v] : a.stop_reasons) ja["stop_reasons"][k] = v;
    j["agent"] = ja;
  } else {
    j["agent"] = nullptr;
  }
  const ComputeMetrics& c = g.compute;
  j["compute"] = {{"flops_per_item", c.flops_per_item},
                  {"flops_total", c.flops_total},
                  {"naive_flops_per_item", c.naive_flops_per_item},
                  {"naive_flops_total", c.naive_flops_total},
                  {"bytes_read_per_item", c.bytes_read_per_item},
                  {"image_flops_per_item", c.image_flops_per_item},
                  {"image_flops_total", c.image_flops_total},
                  {"text_flops_per_item", c.flops_per_item - c.image_flops_per_item},
                  {"image_bytes_read_per_item", c.image_bytes_read_per_item},
                  {"tokens_in_per_item", c.tokens_in_per_item},
                  {"tokens_out_per_item", c.tokens_out_per_item},
                  {"tokens_in_total", c.tokens_in_total},
                  {"tokens_out_total", c.tokens_out_total}};
  if (g.latency) {
    const LatencyMetrics& l = *g.latency;
    j["latency"] = {{"total_seconds", l.total_seconds},
                    {"mean_seconds", l.mean_seconds},
                    {"p50_seconds", l.p50_seconds},
                    {"p90_seconds", l.p90_seconds},
                    {"p99_seconds", l.p99_seconds},
                    {"items_per_second", l.items_per_second},
                    {"mean_time_to_first_token_seconds", json_or_null(l.mean_time_to_first_token_seconds)},
                    {"ms_per_decoded_token", json_or_null(l.ms_per_decoded_token)}};
  } else {
    j["latency"] = nullptr;
  }
  return j;
}

Json to_json(const ModelMetrics& m) {
  Json j;
  j["model"] = m.model;
  j["path"] = m.path;
  j["sha256"] = m.sha256;
  j["architecture"] = m.architecture;
  j["n_params"] = m.n_params;
  j["flops_per_token"] = m.flops_per_token;
  j["has_projector"] = m.has_projector;
  if (m.batch > 0) j["batch"] = m.batch;  // the concurrency latencies were measured under
  Json by_type = Json::object();
  for (const auto& [k, v] : m.memory.weight_bytes_by_type) by_type[k] = v;
  j["memory"] = {{"weight_bytes", m.memory.weight_bytes},
                 {"weight_bytes_by_type", by_type},
                 {"kv_bytes_peak", m.memory.kv_bytes_peak},
                 {"working_bytes", m.memory.working_bytes},
                 {"peak_rss_bytes", m.memory.peak_rss_bytes}};
  j["training"] = {{"flops", json_or_null(m.training.flops)},
                   {"tokens", json_or_null(m.training.tokens)},
                   {"seconds", json_or_null(m.training.seconds)},
                   {"estimated", m.training.estimated}};
  j["items"] = m.items;
  j["applicable"] = m.applicable;
  j["not_applicable"] = m.not_applicable;
  j["errors"] = m.errors;
  if (m.compute_source != "counted" || m.latency_source != "local" || m.memory_source != "measured") {
    j["compute_source"] = m.compute_source;
    j["latency_source"] = m.latency_source;
    j["memory_source"] = m.memory_source;
  }
  return j;
}

Json to_json(const RunMetrics& m) {
  Json j;
  j["confidence"] = m.confidence;
  j["models"] = Json::array();
  for (const auto& x : m.models) j["models"].push_back(to_json(x));
  j["suites"] = Json::array();
  for (const auto& x : m.suites) j["suites"].push_back(to_json(x));
  j["tasks"] = Json::array();
  for (const auto& x : m.tasks) j["tasks"].push_back(to_json(x));
  return j;
}

}  // namespace tenx::eval
