#pragma once
// The claim `tenx verify` decides, from a run's records: for each candidate against the
// baseline, per suite the paired difference of scores on the items applicable to both (seeded
// paired bootstrap stratified by task, cross-checked by Newcombe's interval; exact McNemar on the
// discordant items), the non-inferiority verdict at the margin (verdict.hpp), the compute ratios
// baseline / candidate, and the intersection-union overall verdict. docs/report.md.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tenx/eval/stats/assay.hpp"
#include "tenx/eval/run/record.hpp"
#include "tenx/eval/stats/verdict.hpp"

namespace tenx::eval {

// What `tenx verify` asks: candidates against the baseline at margin delta and compute ratio.
// Every field is also a field of the analysis plan (plan.hpp, docs/plan.schema.json).
struct VerifySpec {
  std::string baseline;                 // model name in the run
  std::vector<std::string> candidates;  // model names in the run
  double margin = 0.02;                 // non-inferiority margin delta (accuracy, absolute)
  // Preserved-effect margin: when set (F in (0, 1)), the verdict uses
  // delta_rel = (1 - F) x (baseline - reference) on the same items instead of `margin`; the
  // report shows both readings (the relative one at F = 0.5 when unset).
  std::optional<double> margin_relative;
  double min_ratio = 10.0;              // ratio baseline / candidate of `compute` the claim needs
  // Which compute the ratio is on: "flops" (inference FLOPs per item), "params" (active
  // parameters), "latency" (mean seconds per item), "memory" (own peak memory), "training"
  // (training FLOPs).
  std::string compute = "flops";
  std::string accuracy = "micro";       // "micro" (items) or "macro" (task-balanced) decides
  // Tasks whose own assay sensitivity is part of the verdict: {"all"} or task names; a listed
  // task at its references makes its suite UNINFORMATIVE.
  std::vector<std::string> require_tasks;
  double confidence = 0.95;             // two-sided; the one-sided alpha is (1 - confidence) / 2
  int bootstrap_resamples = 10000;
  uint64_t seed = 0;
  std::string plan_path, plan_sha256;   // the pre-registered plan, when verify ran under one
  std::vector<std::string> left_out;    // shipped suites the claim leaves out (named in the report)
};

// Assay sensitivity of one task: the baseline against the task's trivial references (and its
// blind controls, if any) on the task's paired items.
struct TaskAssay {
  std::string task;
  std::vector<AssayTest> tests;
  bool informative = false;  // every test passed
};

// The non-inferiority statement at one margin (absolute or relative).
struct MarginReading {
  std::string type;          // "absolute" or "relative"
  double fraction = 0.0;     // relative: F, the share of the baseline's gain to keep
  double margin = 0.0;       // delta; relative: (1 - F) x gain (<= 0: no gain, no reading)
  std::optional<Verdict> verdict;  // the interval against -margin; none when margin <= 0
};

// Accuracy of both models and the interval of their difference, one way of averaging.
struct AccuracyReading {
  double candidate = 0.0, baseline = 0.0;
  Interval difference_ci;
};

struct SuiteComparison {
  std::string suite;
  // false: no item of the suite is applicable to both models (e.g. image items and no projector);
  // the suite is then reported as N/A and left out of the overall verdict (never counted as 0).
  bool applicable = true;
  // evidence.difference_ci, the interval the verdict uses: the paired bootstrap interval of
  // candidate - baseline, widened to the hull with Newcombe's interval when scores are 0/1 (the
  // percentile bootstrap collapses when few items are discordant; Newcombe's does not).
  SuiteVerdict verdict;
  Interval bootstrap_ci;         // the seeded paired bootstrap alone
  bool stratified = false;       // bootstrap stratified by task (every task has >= 10 paired items)
  std::uint64_t items_paired = 0;    // applicable to both models
  std::uint64_t items_excluded = 0;  // N/A to either model (left out, not counted as wrong)
  PairedTable table;             // correct/incorrect of both models on the paired items
  double mcnemar_p = 1.0;        // exact, on table.b and table.c
  std::optional<Interval> newcombe_ci;  // none when some score is not 0/1

  // Assay sensitivity (assay.hpp): the baseline against the trivial references and, for suites
  // with blind controls, against its own blind scores, on the paired items; per task as well.
  std::vector<AssayTest> assay;
  std::vector<TaskAssay> tasks;
  std::vector<std::string> uninformative_tasks;  // "the comparison says nothing about these tasks"
  double gain = 0.0;  // the smallest gain of the baseline over a reference (drives the relative margin)
  AccuracyReading micro, macro;  // items; task-balanced (each task weighs 1 / tasks)
  MarginReading absolute, relative;
  // Blind controls (items "<task>_blind"): left out of the comparison, shown per model and task.
  std::uint64_t control_items = 0;
  std::vector<ControlLift> controls;
};

// baseline / candidate; an interval when one could be computed.
struct Ratio {
  double value = 0.0;
  std::optional<Interval> ci;
};

struct ComputeRatios {
  ComputeCheck flops;              // FLOPs per paired item, against min_ratio
  ComputeCheck claim;              // the ratio of spec.compute the claim needs (== flops by default)
  std::optional<double> params;    // active parameters (every parameter: the models are dense)
  // Mean seconds per paired item; CI: seeded bootstrap of the ratio of means over paired items.
  // None when the candidate's time is 0 (nothing measured).
  std::optional<Ratio> latency;
  // Each model's own peak memory: weights + KV cache peak + working buffers (the process peak
  // RSS is shared by the models of a run, so it is reported per model, not as a ratio).
  std::optional<double> peak_memory;
  std::optional<double> weight_bytes;
  std::optional<double> training_flops;  // none when either model's training compute is unknown
  bool training_flops_estimated = false; // either side is only 6·N·D
  // Non-empty when a side is a remote model (docs/remote.md): where each side's FLOPs and latency
  // come from, so counted and analytic figures are never compared unlabelled.
  std::string sources;
};

struct CandidateVerdict {
  std::string candidate;
  std::string baseline;
  std::vector<SuiteComparison> suites;  // run order
  ComputeRatios compute;
  OverallVerdict overall;  // overall.suites: the verdicts of the applicable suites
};

struct ClaimVerdict {
  VerifySpec spec;
  std::vector<CandidateVerdict> candidates;  // spec order
  // Intersection-union over the candidates: SUPPORTED only when every candidate is,
  // NOT_SUPPORTED when any is, INCONCLUSIVE otherwise.
  Verdict verdict = Verdict::inconclusive;
  int exit_code() const { return tenx::eval::exit_code(verdict); }
};

// Throws tenx::Error when a model of the spec is not in the run, the baseline is also a
// candidate, no suite has an item applicable to both models, a FLOP count is zero or the compute
// measure of the claim is unknown. `references`: the suites' trivial references
// (load_references); a suite missing from it is compared with chance only.
ClaimVerdict verify_claim(const RunResult& run, const VerifySpec& spec, const ReferenceTable& references = {});

}  // namespace tenx::eval
