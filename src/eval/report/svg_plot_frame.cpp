// Axes and legend shared by the report's plots (svg_plot_frame.hpp).
#include "svg_plot_frame.hpp"

#include <algorithm>

namespace tenx::eval::svg {

void draw_axes(Document& doc, const Frame& f, const Scale& x, const Scale& y, const std::vector<Tick>& x_ticks,
               const std::vector<Tick>& y_ticks, const std::string& title, const std::string& x_label,
               const std::string& y_label) {
  doc.text(f.width / 2, 24, title, "middle", 16, 0, "plot-title", "bold");
  doc.open_group("", "grid");
  for (const Tick& t : x_ticks) {
    const double px = x(t.value);
    doc.line(px, f.y0(), px, f.y1(), "#e3e3e3", 1);
    doc.line(px, f.y0(), px, f.y0() + 5, "#444444", 1);
    doc.text(px, f.y0() + 18, t.label, "middle", 11, 0, "tick");
  }
  for (const Tick& t : y_ticks) {
    const double py = y(t.value);
    doc.line(f.x0(), py, f.x1(), py, "#e3e3e3", 1);
    doc.line(f.x0() - 5, py, f.x0(), py, "#444444", 1);
    doc.text(f.x0() - 8, py + 4, t.label, "end", 11, 0, "tick");
  }
  doc.close_group();
  doc.line(f.x0(), f.y0(), f.x1(), f.y0(), "#444444", 1.2);
  doc.line(f.x0(), f.y0(), f.x0(), f.y1(), "#444444", 1.2);
  doc.text((f.x0() + f.x1()) / 2, f.height - 18, x_label, "middle", 13, 0, "axis-label");
  doc.text(18, (f.y0() + f.y1()) / 2, y_label, "middle", 13, -90, "axis-label");
}

void draw_legend(Document& doc, const Frame& f, const std::vector<std::string>& labels, bool markers) {
  doc.open_group("", "legend");
  const double lx = f.x1() + 18;
  double ly = f.y1() + 10;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const auto colour = palette_colour(i);
    if (markers) {
      doc.marker(palette_marker(i), lx + 6, ly, 5, colour);
    } else {
      doc.rect(lx, ly - 6, 12, 12, colour);
    }
    const std::string label = truncate_utf8(labels[i], 22);
    doc.text(lx + 18, ly + 4, label, "start", 12, 0, "legend-label");
    ly += 20;
  }
  doc.close_group();
}

}  // namespace tenx::eval::svg
