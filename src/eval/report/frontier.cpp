// Accuracy against compute for a family of models (include/tenx/eval/report/frontier.hpp).
#include "tenx/eval/report/frontier.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "tenx/eval/stats/pareto.hpp"
#include "tenx/eval/report/svg.hpp"
#include "tenx/util/error.hpp"
#include "tenx/eval/report/number_format.hpp"
#include "tenx/eval/report/text_table.hpp"

namespace tenx::eval {

Frontier compute_frontier(const std::vector<ReportView>& reports, const std::string& baseline) {
  if (reports.empty()) throw Error("frontier", "no report given");
  Frontier f;
  // Suites every model of every report has an accuracy on, in the first report's order.
  f.suites = common_suites(reports[0]);
  for (std::size_t r = 1; r < reports.size(); ++r) {
    const std::vector<std::string> s = common_suites(reports[r]);
    std::erase_if(f.suites, [&](const std::string& x) { return std::find(s.begin(), s.end(), x) == s.end(); });
  }
  if (f.suites.empty())
    throw Error(reports[0].subject, "no suite on which every model of every report has an accuracy");

  for (const ReportView& v : reports) {
    for (const ReportModel& m : v.models) {
      for (const FrontierModel& seen : f.models)
        if (seen.pooled.model == m.name)
          throw Error(v.subject, fmt::format("model '{}' is also in {}; model names must be unique", m.name,
                                             seen.source));
      FrontierModel fm;
      fm.pooled = pooled_accuracy(v, m.name, f.suites, v.confidence);
      fm.source = v.subject;
      fm.n_params = m.n_params;
      f.models.push_back(std::move(fm));
    }
  }
  if (f.models.size() < 2)
    throw Error(reports[0].subject, fmt::format("a frontier needs at least two models (three or more make a "
                                                "family), got {}", f.models.size()));
  for (const FrontierModel& m : f.models)
    if (!(m.pooled.flops_per_item > 0.0))
      throw Error(m.source, fmt::format("model '{}' has no FLOPs per item", m.pooled.model));

  std::vector<ComputePoint> points;
  for (const FrontierModel& m : f.models) points.push_back({m.pooled.model, m.pooled.flops_per_item, m.pooled.accuracy});
  f.front = pareto_front(points);
  for (const std::size_t i : f.front) f.models[i].on_front = true;

  if (baseline.empty()) {
    f.baseline = static_cast<std::size_t>(
        std::max_element(points.begin(), points.end(),
                         [](const ComputePoint& a, const ComputePoint& b) { return a.flops < b.flops; }) -
        points.begin());
  } else {
    const auto it = std::find_if(points.begin(), points.end(), [&](const ComputePoint& p) { return p.label == baseline; });
    if (it == points.end()) throw Error("--baseline", fmt::format("'{}' is not a model of the reports", baseline));
    f.baseline = static_cast<std::size_t>(it - points.begin());
  }
  f.baseline_flops_needed = flops_to_reach(points, points[f.baseline].accuracy);
  f.iso_accuracy_ratio = iso_accuracy_ratio(points, f.baseline);
  return f;
}

std::string frontier_markdown(const Frontier& f) {
  std::string suites;
  for (const auto& s : f.suites) {
    if (!suites.empty()) suites += ", ";
    suites += s;
  }
  const FrontierModel& b = f.models[f.baseline];
  std::string md = fmt::format("Accuracy pooled over: {}\n\n", suites);
  TextTable table({{"model"}, {"parameters", Align::right}, {"FLOPs / item", Align::right}, {"accuracy", Align::right},
                   {"95% CI", Align::right}, {"items", Align::right}, {"Pareto front", Align::center}});
  for (const FrontierModel& m : f.models)
    table.add_row({m.pooled.model + (&m == &b ? " (baseline)" : ""), svg::si(static_cast<double>(m.n_params)),
                   svg::si(m.pooled.flops_per_item), numfmt::percent1(m.pooled.accuracy),
                   fmt::format("{:.1f}–{:.1f}%", 100.0 * m.pooled.ci.lower, 100.0 * m.pooled.ci.upper),
                   std::to_string(m.pooled.items), m.on_front ? "yes" : ""});
  md += table.markdown();
  md += fmt::format(
      "\nIso-accuracy compute ratio: **{:.2f}×** — the front reaches the baseline {}'s accuracy ({:.1f}%) at "
      "{} FLOPs per item instead of {} (interpolated in log FLOPs between front models).\n",
      f.iso_accuracy_ratio, b.pooled.model, 100.0 * b.pooled.accuracy, svg::si(f.baseline_flops_needed),
      svg::si(b.pooled.flops_per_item));
  return md;
}

std::string frontier_svg(const Frontier& f) {
  AccuracyFlopsPlot plot;
  plot.id = "plot-frontier";
  plot.title = fmt::format("Accuracy against FLOPs per item; iso-accuracy ratio {:.2f}x", f.iso_accuracy_ratio);
  for (const FrontierModel& m : f.models)
    plot.points.push_back({m.pooled.model, m.pooled.flops_per_item, m.pooled.accuracy, m.pooled.ci.lower,
                           m.pooled.ci.upper});
  plot.baseline = f.baseline;
  plot.iso_flops = f.baseline_flops_needed;
  return accuracy_flops_svg(plot);
}

Json to_json(const Frontier& f) {
  Json j;
  j["suites"] = f.suites;
  j["baseline"] = f.models[f.baseline].pooled.model;
  j["baseline_flops_needed"] = f.baseline_flops_needed;
  j["iso_accuracy_ratio"] = f.iso_accuracy_ratio;
  j["models"] = Json::array();
  for (const FrontierModel& m : f.models)
    j["models"].push_back({{"model", m.pooled.model},
                           {"source", m.source},
                           {"n_params", m.n_params},
                           {"flops_per_item", m.pooled.flops_per_item},
                           {"accuracy", m.pooled.accuracy},
                           {"lower", m.pooled.ci.lower},
                           {"upper", m.pooled.ci.upper},
                           {"items", m.pooled.items},
                           {"successes", m.pooled.successes},
                           {"on_front", m.on_front}});
  j["front"] = Json::array();
  for (const std::size_t i : f.front) j["front"].push_back(f.models[i].pooled.model);
  return j;
}

}  // namespace tenx::eval
