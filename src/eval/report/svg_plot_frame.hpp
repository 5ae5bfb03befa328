#pragma once
// What the three plots share: the plotting area, axes with grid and tick labels, axis titles and
// a legend of colour + marker per model (include/tenx/eval/report/svg_plot.hpp).
#include <string>
#include <vector>

#include "tenx/eval/report/svg.hpp"

namespace tenx::eval::svg {

struct Frame {
  double width = 760, height = 440;
  double left = 72, right = 180, top = 44, bottom = 64;  // margins; the legend sits in `right`
  double x0() const { return left; }
  double x1() const { return width - right; }
  double y0() const { return height - bottom; }  // bottom of the plotting area
  double y1() const { return top; }
};

// Title on top, grid lines and tick labels on both axes, axis titles; `x_ticks` / `y_ticks`
// values are in data units and mapped through the scales.
void draw_axes(Document& doc, const Frame& f, const Scale& x, const Scale& y, const std::vector<Tick>& x_ticks,
               const std::vector<Tick>& y_ticks, const std::string& title, const std::string& x_label,
               const std::string& y_label);

// The legend: one row per label with the palette's colour and marker for its index.
void draw_legend(Document& doc, const Frame& f, const std::vector<std::string>& labels, bool markers = true);

}  // namespace tenx::eval::svg
