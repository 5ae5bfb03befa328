#pragma once
// The non-inferiority verdict on the claim "the candidate is as capable as the baseline at a
// fraction of the compute": per suite, the confidence interval of the paired accuracy difference
// (candidate - baseline) against the margin -delta; overall, the intersection-union of every
// suite and the compute ratio. docs/statistics.md explains the rule and the exit codes.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tenx/eval/stats/bootstrap.hpp"
#include "tenx/eval/stats/stats.hpp"

namespace tenx::eval {

enum class Verdict {
  supported,      // every part of the claim holds at the chosen confidence
  not_supported,  // some part is shown false
  inconclusive,   // nothing is shown false, but the data cannot show it true either
  // The baseline does not show the capability (it does not beat the suite's trivial references,
  // or its blind controls, by a significant margin): a comparison with it says nothing, so the
  // part can never count toward SUPPORTED (assay sensitivity, docs/statistics.md).
  uninformative,
};

// "SUPPORTED", "NOT_SUPPORTED", "INCONCLUSIVE", "UNINFORMATIVE"
std::string_view to_string(Verdict v);
// The CLI's exit code for a verdict: 0 supported, 3 not supported, 4 inconclusive,
// 5 uninformative (2 is kept for errors, 1 for crashes).
int exit_code(Verdict v);

// What one suite contributes: the accuracies, the interval of their paired difference and the
// discordance rates that drive the sample-size estimate.
struct SuiteEvidence {
  std::string suite;
  std::uint64_t items = 0;
  double candidate_accuracy = 0.0;
  double baseline_accuracy = 0.0;
  Interval difference_ci;     // of candidate - baseline, at `confidence`
  double confidence = 0.95;   // two-sided level of difference_ci
  double candidate_only = 0.0;  // p10: share of items only the candidate gets right
  double baseline_only = 0.0;   // p01: share of items only the baseline gets right
  double difference() const { return candidate_accuracy - baseline_accuracy; }
};

// Evidence from a paired table with Newcombe's hybrid score interval (stats.hpp). When no item
// is discordant the observed rates would claim zero variance, so the rates used for the
// sample-size estimate fall back to the rule of three (3/n discordant, split evenly).
SuiteEvidence evidence_from_table(std::string suite, const PairedTable& table,
                                  double confidence = 0.95);

// Evidence from per-item scores (0/1 or partial credit in [0, 1]) with the paired bootstrap
// interval of the difference, stratified by `strata` (task per item) when given. The rates
// p10/p01 are the shares of items where the candidate scores higher/lower than the baseline
// (rule of three when there are none). Throws as paired_bootstrap_difference does.
SuiteEvidence evidence_from_scores(std::string suite, std::span<const double> candidate,
                                   std::span<const double> baseline,
                                   const BootstrapOptions& options = {},
                                   std::span<const std::string> strata = {});

struct SampleSizePlan {
  double power = 0.8;  // 1 - beta
  // One-sided alpha; by default it matches the lower bound of the two-sided interval used for
  // the verdict ((1 - confidence) / 2 = 0.025 for 95%) when left at 0.
  double alpha = 0.0;
};

// Items needed to show non-inferiority at margin delta with the given power if the observed
// rates were the truth (normal approximation for the paired design, cf. Connor 1987, with the
// margin added; docs/statistics.md):  n = (z_{1-alpha} + z_{1-beta})^2 (p10 + p01 - (p10 - p01)^2) / (d + delta)^2,
// d = p10 - p01. nullopt when d + delta <= 0: with this difference no n suffices.
std::optional<std::uint64_t> items_needed(const SuiteEvidence& e, double margin,
                                          const SampleSizePlan& plan = {});

struct SuiteVerdict {
  SuiteEvidence evidence;
  double margin = 0.0;  // delta, > 0, in accuracy units
  // The part's verdict: `noninferiority` when the baseline shows the capability (informative),
  // else uninformative. decide_suite leaves informative true; the claim clears it after the
  // assay-sensitivity test (assay.hpp).
  Verdict verdict = Verdict::inconclusive;
  Verdict noninferiority = Verdict::inconclusive;  // the interval against -margin alone
  bool informative = true;
  std::optional<std::uint64_t> items_needed;
  std::string explanation;  // one plain sentence
};

// SUPPORTED when the interval's lower bound > -delta, NOT_SUPPORTED when its upper bound
// < -delta, INCONCLUSIVE otherwise. Throws when margin <= 0 or the interval is inverted.
SuiteVerdict decide_suite(const SuiteEvidence& evidence, double margin,
                          const SampleSizePlan& plan = {});

struct ComputeEvidence {
  double baseline_flops_per_item = 0.0;
  double candidate_flops_per_item = 0.0;
  double min_ratio = 10.0;
};

struct ComputeCheck {
  ComputeEvidence evidence;
  double ratio = 0.0;  // baseline / candidate FLOPs per item
  bool holds = false;  // ratio >= min_ratio
  std::string explanation;
};

// Throws when either FLOP count is not a positive finite number or min_ratio <= 0.
ComputeCheck check_compute(const ComputeEvidence& evidence);

// The same check on another measure of compute (the plan's "compute"): `what` names it in the
// explanation ("active parameters", "mean latency per item", ...). evidence's *_flops_per_item
// then hold that measure. Throws as check_compute does.
ComputeCheck check_ratio(const ComputeEvidence& evidence, const std::string& what);

// Marks a decided suite as uninformative: verdict UNINFORMATIVE, `why` (a sentence naming what
// the baseline failed to beat) leads the explanation and the non-inferiority reading follows it.
void mark_uninformative(SuiteVerdict& v, const std::string& why);

struct OverallVerdict {
  Verdict verdict = Verdict::inconclusive;
  std::vector<SuiteVerdict> suites;
  ComputeCheck compute;
  std::string explanation;  // which part decided the verdict
  int exit_code() const { return tenx::eval::exit_code(verdict); }
};

// Intersection-union: SUPPORTED only when every suite is informative and SUPPORTED and the
// ratio holds. NOT_SUPPORTED when the ratio fails or the candidate is shown inferior on any suite
// (a loss shown is a loss, even on an uninformative suite); else INCONCLUSIVE when an informative
// suite is undecided; else UNINFORMATIVE when a suite is uninformative or, listed in
// `not_applicable`, has no item both models can take. No multiplicity correction is needed: each
// part is tested at the full level (Berger 1982). Throws when there are no suites.
OverallVerdict decide_overall(std::vector<SuiteVerdict> suites, const ComputeCheck& compute,
                              const std::vector<std::string>& not_applicable = {});

}  // namespace tenx::eval
