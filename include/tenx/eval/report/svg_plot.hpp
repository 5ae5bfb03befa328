#pragma once
// The report's three plots as self-contained SVG text: accuracy against FLOPs per item (log x,
// Wilson CI bars, the Pareto front), accuracy per suite and model (bars with CIs), and the
// latency CDF per model. Inputs are plain values (taken from report.json by report_html.cpp and
// by `tenx frontier`), the output is deterministic for the same input.
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace tenx::eval {

struct AccuracyComputePoint {
  std::string label;       // model name
  double flops = 0.0;      // per item, > 0 (points without are left out and listed in a note)
  double accuracy = 0.0;   // in [0, 1]
  double lower = 0.0;      // 95% CI of the accuracy
  double upper = 0.0;
};

struct AccuracyFlopsPlot {
  std::string id = "plot-accuracy-flops";  // root <svg id>
  std::string title = "Accuracy against FLOPs per item";
  std::vector<AccuracyComputePoint> points;
  std::optional<std::size_t> baseline;  // index into points: drawn with a dashed accuracy line
  std::optional<double> iso_flops;      // FLOPs the front needs for the baseline's accuracy (marked)
};
std::string accuracy_flops_svg(const AccuracyFlopsPlot& plot);

struct SuiteAccuracyBar {
  bool applicable = false;  // false: N/A (drawn as a labelled gap, never as zero)
  double accuracy = 0.0, lower = 0.0, upper = 0.0;
};

struct SuiteAccuracyPlot {
  std::string id = "plot-suite-accuracy";
  std::string title = "Accuracy per suite (95% CI)";
  std::vector<std::string> suites;
  std::vector<std::string> models;
  std::vector<std::vector<SuiteAccuracyBar>> bars;  // [model][suite]
};
std::string suite_accuracy_svg(const SuiteAccuracyPlot& plot);

struct LatencySeries {
  std::string model;
  std::vector<double> seconds;  // per item wall times (any order)
};

struct LatencyCdfPlot {
  std::string id = "plot-latency-cdf";
  std::string title = "Latency per item: cumulative distribution";
  std::vector<LatencySeries> series;
};
std::string latency_cdf_svg(const LatencyCdfPlot& plot);

}  // namespace tenx::eval
