// Accuracy against FLOPs per item (log x, CI bars, Pareto front) and accuracy per suite (grouped
// bars with CIs), include/tenx/eval/report/svg_plot.hpp.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "svg_plot_frame.hpp"
#include "tenx/eval/stats/pareto.hpp"
#include "tenx/eval/report/svg_plot.hpp"

namespace tenx::eval {
namespace {

using svg::Document;
using svg::Frame;
using svg::Scale;

// An accuracy axis around the data: tenths that contain every interval, at least 0.2 wide.
std::pair<double, double> accuracy_range(double lo, double hi) {
  double a = std::max(0.0, std::floor(lo * 10.0 - 1e-9) / 10.0);
  double b = std::min(1.0, std::ceil(hi * 10.0 + 1e-9) / 10.0);
  if (b - a < 0.2) {
    b = std::min(1.0, a + 0.2);
    a = std::max(0.0, b - 0.2);
  }
  return {a, b};
}

std::string percent(double v) { return fmt::format("{:.1f}%", 100.0 * v); }

}  // namespace

std::string accuracy_flops_svg(const AccuracyFlopsPlot& plot) {
  Frame f;
  Document doc(f.width, f.height, plot.id, plot.title);

  std::vector<std::size_t> shown;  // points with FLOPs to place on a log axis
  std::vector<std::string> hidden;
  for (std::size_t i = 0; i < plot.points.size(); ++i) {
    const auto& p = plot.points[i];
    if (p.flops > 0.0 && std::isfinite(p.flops) && std::isfinite(p.accuracy)) {
      shown.push_back(i);
    } else {
      hidden.push_back(p.label);
    }
  }
  double fmin = 1.0, fmax = 10.0, amin = 0.0, amax = 1.0;
  if (!shown.empty()) {
    fmin = fmax = plot.points[shown[0]].flops;
    amin = amax = plot.points[shown[0]].accuracy;
    for (const std::size_t i : shown) {
      const auto& p = plot.points[i];
      fmin = std::min(fmin, p.flops);
      fmax = std::max(fmax, p.flops);
      amin = std::min({amin, p.lower, p.accuracy});
      amax = std::max({amax, p.upper, p.accuracy});
    }
  }
  const auto [xlo, xhi] = svg::log_range(fmin, fmax);
  const auto [ylo, yhi] = accuracy_range(amin, amax);
  const Scale x{xlo, xhi, f.x0(), f.x1(), true};
  const Scale y{ylo, yhi, f.y0(), f.y1(), false};
  svg::draw_axes(doc, f, x, y, svg::log_ticks(xlo, xhi), svg::linear_ticks(ylo, yhi, 6, true), plot.title,
                 "FLOPs per item (log scale)", "Accuracy (95% CI)");

  if (plot.baseline && *plot.baseline < plot.points.size()) {
    const auto& b = plot.points[*plot.baseline];
    if (std::isfinite(b.accuracy)) {
      doc.line(f.x0(), y(b.accuracy), f.x1(), y(b.accuracy), "#777777", 1, "5 4", "baseline-accuracy");
      doc.text(f.x1() - 4, y(b.accuracy) - 5, "baseline " + percent(b.accuracy), "end", 10, 0, "baseline-label");
    }
  }

  // The Pareto front (pareto.hpp): a line through the non-dominated models.
  std::size_t front_size = 0;
  std::vector<ComputePoint> cps;
  for (const std::size_t i : shown) cps.push_back({plot.points[i].label, plot.points[i].flops, plot.points[i].accuracy});
  if (cps.size() >= 2) {
    const std::vector<std::size_t> front = pareto_front(cps);
    front_size = front.size();
    std::vector<std::pair<double, double>> line;
    // Straight segments on the log axis: the interpolation iso_accuracy_ratio() reads the front with.
    for (const std::size_t k : front) line.emplace_back(x(cps[k].flops), y(cps[k].accuracy));
    doc.open_group("pareto-front", "pareto-front");
    if (front_size >= 2) doc.polyline(line, "#555555", 1.5, "6 3");  // one model: nothing to connect
    doc.close_group();
  }

  if (plot.iso_flops && plot.baseline && *plot.baseline < plot.points.size() && *plot.iso_flops > 0.0) {
    const double acc = plot.points[*plot.baseline].accuracy;
    doc.line(x(*plot.iso_flops), y(acc), x(*plot.iso_flops), f.y0(), "#777777", 1, "2 3", "iso-accuracy");
    doc.text(x(*plot.iso_flops) + 4, f.y0() - 6, "front reaches baseline: " + svg::si(*plot.iso_flops), "start", 10,
             0, "iso-label");
  }

  doc.open_group("", "points");
  for (std::size_t k = 0; k < shown.size(); ++k) {
    const std::size_t i = shown[k];
    const auto& p = plot.points[i];
    const auto colour = svg::palette_colour(i);
    const double px = x(p.flops);
    doc.line(px, y(p.lower), px, y(p.upper), colour, 1.5, "", "ci");
    doc.line(px - 5, y(p.lower), px + 5, y(p.lower), colour, 1.5, "", "ci");
    doc.line(px - 5, y(p.upper), px + 5, y(p.upper), colour, 1.5, "", "ci");
    const std::string tip = fmt::format("{}: {} ({}–{}) at {}FLOP per item", p.label, percent(p.accuracy),
                                        percent(p.lower), percent(p.upper), svg::si(p.flops));
    doc.marker(svg::palette_marker(i), px, y(p.accuracy), 5.5, colour, tip, "point");
    doc.text(px + 9, y(p.accuracy) - 7, svg::truncate_utf8(p.label, 24), "start", 11, 0, "point-label");
  }
  doc.close_group();

  std::vector<std::string> labels;
  for (const auto& p : plot.points) labels.push_back(p.label);
  svg::draw_legend(doc, f, labels);
  if (front_size >= 2) {
    const double ly = f.y1() + 10 + 20.0 * static_cast<double>(labels.size()) + 6;
    doc.line(f.x1() + 18, ly, f.x1() + 30, ly, "#555555", 1.5, "6 3");
    doc.text(f.x1() + 36, ly + 4, "Pareto front", "start", 12, 0, "legend-label");
  }
  if (!hidden.empty()) {
    std::string names;
    for (const auto& h : hidden) {
      if (!names.empty()) names += ", ";
      names += h;
    }
    doc.text(f.x0(), f.height - 4, "not shown (no FLOPs or accuracy): " + names, "start", 10, 0, "note");
  }
  return doc.finish();
}

std::string suite_accuracy_svg(const SuiteAccuracyPlot& plot) {
  Frame f;
  const double n_models = static_cast<double>(std::max<std::size_t>(1, plot.models.size()));
  const double n_suites = static_cast<double>(std::max<std::size_t>(1, plot.suites.size()));
  const double bar_w = 18.0, gap = 28.0;
  f.width = std::max(560.0, f.left + f.right + n_suites * (n_models * bar_w + gap));
  Document doc(f.width, f.height, plot.id, plot.title);
  const Scale y{0.0, 1.0, f.y0(), f.y1(), false};
  const Scale x{0.0, 1.0, f.x0(), f.x1(), false};
  svg::draw_axes(doc, f, x, y, {}, svg::linear_ticks(0.0, 1.0, 5, true), plot.title, "Suite",
                 "Accuracy (95% CI)");

  const double group_w = (f.x1() - f.x0()) / n_suites;
  for (std::size_t s = 0; s < plot.suites.size(); ++s) {
    const double gx = f.x0() + group_w * static_cast<double>(s);
    const double start = gx + (group_w - n_models * bar_w) / 2.0;
    doc.text(gx + group_w / 2.0, f.y0() + 18, plot.suites[s], "middle", 12, 0, "tick");
    doc.open_group("", "suite-bars");
    for (std::size_t m = 0; m < plot.models.size(); ++m) {
      const double bx = start + bar_w * static_cast<double>(m);
      const auto colour = svg::palette_colour(m);
      const SuiteAccuracyBar bar =
          (m < plot.bars.size() && s < plot.bars[m].size()) ? plot.bars[m][s] : SuiteAccuracyBar{};
      if (!bar.applicable) {
        doc.text(bx + bar_w / 2.0, f.y0() - 6, "N/A", "middle", 9, 0, "na");
        continue;
      }
      doc.rect(bx + 1, y(bar.accuracy), bar_w - 2, f.y0() - y(bar.accuracy), colour, "none", "bar");
      const double cx = bx + bar_w / 2.0;
      doc.line(cx, y(bar.lower), cx, y(bar.upper), "#222222", 1.2, "", "ci");
      doc.line(cx - 4, y(bar.lower), cx + 4, y(bar.lower), "#222222", 1.2, "", "ci");
      doc.line(cx - 4, y(bar.upper), cx + 4, y(bar.upper), "#222222", 1.2, "", "ci");
    }
    doc.close_group();
  }
  svg::draw_legend(doc, f, plot.models, false);
  return doc.finish();
}

}  // namespace tenx::eval
