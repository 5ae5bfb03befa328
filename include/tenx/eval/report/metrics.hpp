#pragma once
// The metrics layer: what a run's records say per model × suite and per model × suite × task
// (accuracy with a 95% interval, items, compute, tokens, latency) and per model (memory,
// training compute). Computed from a RunResult alone, so a finished run folder can be re-read.
// Conventions (docs/report.md):
// - An item that is not applicable (an image item on a model without a projector) is left out
//   of every figure and counted in `not_applicable`; a group with no applicable item has no
//   accuracy (N/A, JSON null), never 0.
// - An applicable item whose run failed (`error` non-empty) counts as wrong (score 0) and in
//   `errors`; its FLOPs and time are counted as spent.
// - Proportions (acc, acc_norm, agent success, valid-call rate) get Wilson intervals; the mean
//   of partial scores and of the agent's call match get a seeded bootstrap interval.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tenx/eval/run/record.hpp"
#include "tenx/eval/run/record.hpp"
#include "tenx/eval/stats/stats.hpp"

namespace tenx::eval {

// A mean (a proportion for 0/1 values) with its two-sided interval.
struct Estimate {
  double value = 0.0;
  Interval ci;
  std::uint64_t n = 0;   // values behind it (items; calls for the valid-call rate)
  std::string method;    // "wilson" or "bootstrap"
};

// What the agent items of a group did (present only when the group has agent items).
struct AgentMetrics {
  std::uint64_t items = 0;
  std::optional<Estimate> valid_call_rate;  // valid calls / calls (Wilson over calls); none when no call was written
  Estimate call_match;                      // mean share of gold calls made (bootstrap)
  double mean_steps = 0.0;
  double mean_calls = 0.0;
  std::map<std::string, std::uint64_t> stop_reasons;  // "answer" -> count, ...
};

struct ComputeMetrics {
  double flops_per_item = 0.0;        // mean counted FLOPs per applicable item
  double flops_total = 0.0;           // sum (a double: totals of large runs pass 2^53 harmlessly)
  double naive_flops_per_item = 0.0;  // what a run without prefix sharing would spend
  double naive_flops_total = 0.0;
  double bytes_read_per_item = 0.0;
  // The part of the FLOPs / bytes spent encoding images (vision encoder + projector), per applicable
  // item and in total; the text's share is flops_per_item - image_flops_per_item.
  double image_flops_per_item = 0.0;
  double image_flops_total = 0.0;
  double image_bytes_read_per_item = 0.0;
  double tokens_in_per_item = 0.0;
  double tokens_out_per_item = 0.0;
  std::int64_t tokens_in_total = 0;
  std::int64_t tokens_out_total = 0;
};

struct LatencyMetrics {
  double total_seconds = 0.0;  // sum of the items' wall times
  double mean_seconds = 0.0;   // per item
  double p50_seconds = 0.0;    // percentiles of the per-item wall time, numpy 'linear'
  double p90_seconds = 0.0;
  double p99_seconds = 0.0;
  double items_per_second = 0.0;  // items / total_seconds (0 when no time was measured)
  // Mean over items that generated at least one token; none when no item generated (choice only).
  std::optional<double> mean_time_to_first_token_seconds;
  // Mean decode time per token in milliseconds over items that generated two or more tokens.
  std::optional<double> ms_per_decoded_token;
};

// One model × suite (task empty) or model × suite × task.
struct GroupMetrics {
  std::string model;
  std::string suite;
  std::string task;                 // empty: the whole suite
  std::vector<std::string> types;   // item types present, sorted ("choice", "generate", "agent")
  std::uint64_t items = 0;          // records in the group
  std::uint64_t applicable = 0;     // items - not_applicable: the items behind every figure
  std::uint64_t not_applicable = 0;
  std::uint64_t errors = 0;         // applicable items that failed to run (counted wrong)
  std::optional<Estimate> accuracy;       // acc / match / success (Wilson); none when applicable == 0
  std::optional<Estimate> accuracy_norm;  // choice items only: acc_norm (Wilson)
  std::optional<Estimate> score;          // mean score; Wilson when all scores are 0/1, else bootstrap
  std::optional<AgentMetrics> agent;
  ComputeMetrics compute;               // over applicable items (zeros when none)
  std::optional<LatencyMetrics> latency;  // none when applicable == 0
};

// Per model, from its ModelInfo and its records.
struct MemoryMetrics {
  std::map<std::string, std::uint64_t> weight_bytes_by_type;
  std::uint64_t weight_bytes = 0;
  std::uint64_t kv_bytes_peak = 0;
  std::uint64_t working_bytes = 0;
  std::uint64_t peak_rss_bytes = 0;
};

struct TrainingCompute {
  std::optional<double> flops;    // none: unknown
  std::optional<double> tokens;
  std::optional<double> seconds;
  bool estimated = false;         // only 6·N·D is known
};

struct ModelMetrics {
  std::string model;   // NAME
  std::string path;
  std::string sha256;
  std::string architecture;
  std::int64_t n_params = 0;
  std::uint64_t flops_per_token = 0;  // analytic, at position 0
  bool has_projector = false;
  std::int64_t batch = 0;  // items in flight while measured (ModelInfo::batch); 0: not recorded
  MemoryMetrics memory;
  TrainingCompute training;
  std::uint64_t items = 0, applicable = 0, not_applicable = 0, errors = 0;  // over all suites
  // ModelInfo's: where FLOPs, latency and memory come from (remote models: docs/remote.md).
  // report.json carries them only when one differs from the local defaults.
  std::string compute_source = "counted", latency_source = "local", memory_source = "measured";
};

struct MetricsOptions {
  double confidence = 0.95;
  std::size_t bootstrap_resamples = 10000;
  std::uint64_t seed = 20240601;  // bootstrap seed (partial scores, call match)
};

struct RunMetrics {
  double confidence = 0.95;
  std::vector<ModelMetrics> models;  // manifest order
  std::vector<GroupMetrics> suites;  // per model × suite: models in manifest order, then suites
  std::vector<GroupMetrics> tasks;   // per model × suite × task: same order, tasks sorted by name
};

// Throws tenx::Error when a record names a model or suite the manifest does not have.
RunMetrics compute_metrics(const RunResult& run, const MetricsOptions& options = {});

// Metrics of one group of records (all of one model; the labels are copied from the arguments).
GroupMetrics group_metrics(const std::vector<const ItemRecord*>& records, std::string model,
                           std::string suite, std::string task, const MetricsOptions& options = {});

// The JSON forms used in report.json (docs/report.schema.json): optional values are null.
Json to_json(const Estimate& e);
Json to_json(const GroupMetrics& g);
Json to_json(const ModelMetrics& m);
Json to_json(const RunMetrics& m);

}  // namespace tenx::eval
