// A report's view -> the plots (include/tenx/eval/report/report_plots.hpp).
#include "tenx/eval/report/report_plots.hpp"

#include <fmt/format.h>

#include <cmath>

#include "tenx/util/error.hpp"

namespace tenx::eval {

std::vector<std::string> common_suites(const ReportView& view) {
  std::vector<std::string> out;
  for (const std::string& s : view.suites) {
    bool all = !view.models.empty();
    for (const ReportModel& m : view.models) {
      const ReportGroup* g = view.group(m.name, s);
      all = all && g && g->accuracy && g->applicable > 0;
    }
    if (all) out.push_back(s);
  }
  return out;
}

PooledAccuracy pooled_accuracy(const ReportView& view, const std::string& model,
                               const std::vector<std::string>& suites, double confidence) {
  PooledAccuracy p;
  p.model = model;
  double flops = 0.0;
  for (const std::string& s : suites) {
    const ReportGroup* g = view.group(model, s);
    if (!g || !g->accuracy)
      throw Error(view.subject, fmt::format("model '{}' has no accuracy on suite '{}'", model, s));
    const std::uint64_t n = g->accuracy->n ? g->accuracy->n : g->applicable;
    p.successes += static_cast<std::uint64_t>(std::llround(g->accuracy->value * static_cast<double>(n)));
    p.items += n;
    flops += g->flops_per_item * static_cast<double>(n);
  }
  if (p.items == 0) throw Error(view.subject, fmt::format("model '{}': no items to pool", model));
  p.accuracy = static_cast<double>(p.successes) / static_cast<double>(p.items);
  p.ci = wilson_interval(p.successes, p.items, confidence);
  p.flops_per_item = flops / static_cast<double>(p.items);
  return p;
}

ReportPlots report_plots(const ReportView& view) {
  ReportPlots plots;
  plots.pooled_suites = common_suites(view);

  AccuracyFlopsPlot af;
  const std::string baseline =
      view.verdict.is_object() ? view.verdict.value("baseline", std::string()) : std::string();
  for (const ReportModel& m : view.models) {
    if (m.name == baseline) af.baseline = af.points.size();
    if (plots.pooled_suites.empty()) {
      af.points.push_back({m.name, 0.0, NAN, 0.0, 0.0});  // listed as "not shown"
      continue;
    }
    const PooledAccuracy p = pooled_accuracy(view, m.name, plots.pooled_suites, view.confidence);
    af.points.push_back({m.name, p.flops_per_item, p.accuracy, p.ci.lower, p.ci.upper});
  }
  if (!plots.pooled_suites.empty()) {
    std::string names;
    for (const auto& s : plots.pooled_suites) {
      if (!names.empty()) names += ", ";
      names += s;
    }
    af.title = "Accuracy against FLOPs per item (" + names + ")";
  }
  plots.accuracy_flops = accuracy_flops_svg(af);

  SuiteAccuracyPlot sa;
  sa.suites = view.suites;
  for (const ReportModel& m : view.models) {
    sa.models.push_back(m.name);
    std::vector<SuiteAccuracyBar> row;
    for (const std::string& s : view.suites) {
      const ReportGroup* g = view.group(m.name, s);
      if (g && g->accuracy && g->applicable > 0) {
        row.push_back({true, g->accuracy->value, g->accuracy->ci.lower, g->accuracy->ci.upper});
      } else {
        row.push_back({});
      }
    }
    sa.bars.push_back(std::move(row));
  }
  plots.suite_accuracy = suite_accuracy_svg(sa);

  LatencyCdfPlot lc;
  for (const ReportModel& m : view.models) {
    LatencySeries series{m.name, {}};
    for (const std::string& s : view.suites) {
      const ReportGroup* g = view.group(m.name, s);
      if (!g) continue;
      const ReportItems& it = g->per_item;
      for (std::size_t i = 0; i < it.seconds.size(); ++i)
        if (it.applicable[i]) series.seconds.push_back(it.seconds[i]);
    }
    plots.latency_from_items = plots.latency_from_items || !series.seconds.empty();
    lc.series.push_back(std::move(series));
  }
  plots.latency_cdf = latency_cdf_svg(lc);
  return plots;
}

}  // namespace tenx::eval
