#pragma once
// `tenx compare OLD NEW`: the CI regression gate between two reports of the same models on the
// same items (e.g. the main branch's build and a pull request's build). Per model × suite:
// accuracy change on the items applicable in both (exact McNemar on the discordant items),
// latency change (median per-item wall time; Mann-Whitney U on the per-item times), FLOPs per
// item change (exact: counted); per model the memory change (exact: weights + KV cache peak +
// working buffers; peak RSS is shown, not gated). docs/cli.md and docs/ci.md.
//
// A check is a REGRESSION when it is worse, beyond its threshold, AND (for the measured
// quantities) significant:
//   accuracy: new - old < -max_accuracy_drop  and  McNemar p < alpha
//   latency:  median_new / median_old - 1 > max_latency_increase  and  Mann-Whitney p < alpha
//   FLOPs:    flops_new / flops_old - 1 > max_flops_increase   (counted, no test needed)
//   memory:   memory_new / memory_old - 1 > max_memory_increase (counted, no test needed)
#include <cstdint>
#include <string>
#include <vector>

#include "tenx/eval/report/report_view.hpp"
#include "tenx/eval/stats/stats.hpp"

namespace tenx::eval {

struct CompareOptions {
  double max_accuracy_drop = 0.01;     // absolute accuracy (0.01 = 1 percentage point)
  double max_latency_increase = 0.10;  // relative (0.10 = +10% median time per item)
  double max_flops_increase = 0.0;     // relative
  double max_memory_increase = 0.0;    // relative
  double alpha = 0.05;
};

struct SuiteChange {
  std::string model, suite;
  std::uint64_t items = 0;  // applicable in both reports
  // accuracy ("first" = new, "second" = old in the paired table: b = only new right)
  double old_accuracy = 0.0, new_accuracy = 0.0;
  PairedTable table;
  double mcnemar_p = 1.0;
  bool accuracy_regression = false;
  // latency: medians of the per-item wall times
  double old_p50_seconds = 0.0, new_p50_seconds = 0.0;
  double latency_change = 0.0;  // new / old - 1 (0 when old is 0)
  double mann_whitney_p = 1.0;
  bool latency_regression = false;
  // FLOPs per paired item (means)
  double old_flops = 0.0, new_flops = 0.0;
  double flops_change = 0.0;
  bool flops_regression = false;
  bool regression() const { return accuracy_regression || latency_regression || flops_regression; }
};

struct MemoryChange {
  std::string model;
  std::uint64_t old_bytes = 0, new_bytes = 0;  // weights + KV cache peak + working buffers
  double change = 0.0;                          // new / old - 1
  std::uint64_t old_peak_rss = 0, new_peak_rss = 0;  // shown only (the allocator and OS move it)
  bool regression = false;
};

// The claim's verdict in each report (report.json "verdict"; shown, never a failing check: the
// gate compares measurements). Format-1 reports have no assay sensitivity: informative is "".
struct VerdictChange {
  std::string candidate, suite;  // suite empty: the candidate's overall verdict
  std::string old_verdict, new_verdict;          // "" when that report has none
  std::string old_informative, new_informative;  // "yes", "no" or "" (unknown, format 1)
};

struct Comparison {
  std::string old_subject, new_subject;
  int old_format = 0, new_format = 0;
  std::vector<VerdictChange> verdicts;  // when either report has a verdict
  CompareOptions options;
  std::vector<SuiteChange> suites;    // OLD's order
  std::vector<MemoryChange> memory;   // OLD's order
  std::size_t regressions() const;    // failing checks
  int exit_code() const { return regressions() > 0 ? 1 : 0; }
};

// Throws tenx::Error naming the file when the reports cannot be compared: different models or
// suites, a report without per-item arrays, items that differ (ids, or applicability), scores
// that are not 0/1, or options out of range.
Comparison compare_reports(const ReportView& old_report, const ReportView& new_report,
                           const CompareOptions& options = {});

// A Markdown summary fit for a pull-request comment.
std::string comparison_markdown(const Comparison& c);
Json to_json(const Comparison& c);

}  // namespace tenx::eval
