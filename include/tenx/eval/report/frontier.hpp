#pragma once
// `tenx frontier`: a family of models (from one or more reports) placed by accuracy against FLOPs
// per item, the Pareto front and the iso-accuracy compute ratio of pareto.hpp. Accuracy is pooled
// over the suites every model could run (report_plots.hpp), with a Wilson interval; the front and
// the ratio use the point estimates (the intervals are shown so a reader sees how firm they are).
#include <optional>
#include <string>
#include <vector>

#include "tenx/eval/report/report_plots.hpp"
#include "tenx/eval/report/report_view.hpp"

namespace tenx::eval {

struct FrontierModel {
  PooledAccuracy pooled;
  std::string source;  // the report it came from
  std::int64_t n_params = 0;
  bool on_front = false;
};

struct Frontier {
  std::vector<std::string> suites;   // pooled suites (every model has an accuracy on each)
  std::vector<FrontierModel> models; // input order
  std::vector<std::size_t> front;    // indices into models, increasing FLOPs
  std::size_t baseline = 0;          // index into models
  double baseline_flops_needed = 0;  // FLOPs per item the front needs for the baseline's accuracy
  double iso_accuracy_ratio = 1.0;   // baseline FLOPs / baseline_flops_needed
};

// `baseline` names a model; empty: the model with the most FLOPs per item. Throws tenx::Error
// when fewer than two models are given, a model name repeats across reports (naming both files),
// no suite is common to all models, or the baseline is unknown.
Frontier compute_frontier(const std::vector<ReportView>& reports, const std::string& baseline = "");

std::string frontier_markdown(const Frontier& f);
std::string frontier_svg(const Frontier& f);
Json to_json(const Frontier& f);

}  // namespace tenx::eval
