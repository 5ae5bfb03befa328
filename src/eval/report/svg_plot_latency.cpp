// Latency per item as an empirical CDF per model (include/tenx/eval/report/svg_plot.hpp).
#include <algorithm>
#include <cmath>
#include <tuple>

#include "svg_plot_frame.hpp"
#include "tenx/eval/stats/stats.hpp"
#include "tenx/eval/report/svg_plot.hpp"

namespace tenx::eval {
namespace {

// At most this many steps per curve: beyond it the curve is drawn through evenly spaced
// quantiles, which keeps a 10,000-item run's plot small without changing its look.
constexpr std::size_t kMaxSteps = 400;

std::string seconds_label(double s) {
  if (s == 0.0) return "0";
  if (s < 1e-3) return svg::num(s * 1e6) + " µs";
  if (s < 1.0) return svg::num(s * 1e3) + " ms";
  return svg::num(s) + " s";
}

}  // namespace

std::string latency_cdf_svg(const LatencyCdfPlot& plot) {
  svg::Frame f;
  svg::Document doc(f.width, f.height, plot.id, plot.title);

  std::vector<std::vector<double>> sorted;
  double lo = 0.0, hi = 0.0;
  bool any = false;
  for (const auto& s : plot.series) {
    std::vector<double> v;
    for (const double t : s.seconds)
      if (std::isfinite(t) && t >= 0.0) v.push_back(t);
    std::sort(v.begin(), v.end());
    if (!v.empty()) {
      lo = any ? std::min(lo, v.front()) : v.front();
      hi = any ? std::max(hi, v.back()) : v.back();
      any = true;
    }
    sorted.push_back(std::move(v));
  }
  // Log x when every time is positive and they span more than a factor 20; else linear from 0.
  const bool log_x = any && lo > 0.0 && hi / lo > 20.0;
  double xlo = 0.0, xhi = 1.0;
  std::vector<svg::Tick> x_ticks;
  if (log_x) {
    std::tie(xlo, xhi) = svg::log_range(lo, hi);
    x_ticks = svg::log_ticks(xlo, xhi);
    for (auto& t : x_ticks) t.label = seconds_label(t.value);
  } else {
    xhi = any && hi > 0.0 ? hi * 1.05 : 1.0;
    x_ticks = svg::linear_ticks(0.0, xhi, 6);
    for (auto& t : x_ticks) t.label = seconds_label(t.value);
  }
  const svg::Scale x{xlo, xhi, f.x0(), f.x1(), log_x};
  const svg::Scale y{0.0, 1.0, f.y0(), f.y1(), false};
  svg::draw_axes(doc, f, x, y, x_ticks, svg::linear_ticks(0.0, 1.0, 5, true), plot.title,
                 log_x ? "Wall time per item (log scale)" : "Wall time per item",
                 "Share of items at most this time");

  std::vector<std::string> labels;
  for (std::size_t i = 0; i < plot.series.size(); ++i) {
    labels.push_back(plot.series[i].model);
    const auto& v = sorted[i];
    if (v.empty()) continue;
    std::vector<std::pair<double, double>> pts;
    const double n = static_cast<double>(v.size());
    if (v.size() <= kMaxSteps) {
      pts.emplace_back(x(v[0]), y(0.0));
      for (std::size_t k = 0; k < v.size(); ++k) {
        if (k > 0) pts.emplace_back(x(v[k]), y(static_cast<double>(k) / n));
        pts.emplace_back(x(v[k]), y(static_cast<double>(k + 1) / n));
      }
    } else {
      for (std::size_t k = 0; k <= kMaxSteps; ++k) {
        const double q = static_cast<double>(k) / static_cast<double>(kMaxSteps);
        pts.emplace_back(x(percentile_of_sorted(v, 100.0 * q)), y(q));
      }
    }
    doc.open_group("", "cdf");
    doc.polyline(pts, svg::palette_colour(i), 2.0, i % 2 == 1 ? "7 3" : "");
    doc.close_group();
  }
  svg::draw_legend(doc, f, labels, false);
  return doc.finish();
}

}  // namespace tenx::eval
