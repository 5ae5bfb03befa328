#pragma once
// From a report's view to the plots' inputs (svg_plot.hpp): accuracy per model pooled over the
// suites every model could run, FLOPs per item over the same items, accuracy per suite, and the
// per-item wall times. Shared by report.html and `tenx frontier`.
#include <string>
#include <vector>

#include "tenx/eval/report/report_view.hpp"
#include "tenx/eval/report/svg_plot.hpp"

namespace tenx::eval {

// One model's accuracy over a set of suites with the items pooled (each item weighs the same):
// successes = sum of round(accuracy * n) per suite, Wilson interval on the pooled count;
// FLOPs per item = sum of flops_per_item * applicable / sum of applicable.
struct PooledAccuracy {
  std::string model;
  std::uint64_t successes = 0, items = 0;
  double accuracy = 0.0;
  Interval ci;
  double flops_per_item = 0.0;
};

// Suites (in report order) where every model of the view has an accuracy (not N/A).
std::vector<std::string> common_suites(const ReportView& view);

// Throws tenx::Error(view.subject, ...) when the model has no accuracy on one of the suites or
// the suites hold no item.
PooledAccuracy pooled_accuracy(const ReportView& view, const std::string& model,
                               const std::vector<std::string>& suites, double confidence = 0.95);

struct ReportPlots {
  std::string accuracy_flops, suite_accuracy, latency_cdf;  // SVG documents
  bool latency_from_items = false;  // false: no per-item times in the report (empty CDF)
  std::vector<std::string> pooled_suites;  // the suites the accuracy-FLOPs plot pools
};

// The baseline of the accuracy-FLOPs plot is the verdict's baseline when the report has one.
ReportPlots report_plots(const ReportView& view);

}  // namespace tenx::eval
