// The SVG writer and axis helpers (include/tenx/eval/report/svg.hpp).
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "tenx/eval/report/svg.hpp"
#include "tenx/eval/report/number_format.hpp"

namespace tenx::eval::svg {

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto u = static_cast<unsigned char>(ch);
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if (u < 0x20 && ch != '\t' && ch != '\n') break;  // not allowed in XML 1.0
        out += ch;
    }
  }
  return out;
}

std::string truncate_utf8(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  std::size_t cut = max_bytes > 3 ? max_bytes - 3 : 0;  // room for the ellipsis (3 bytes)
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + "\u2026";
}

std::string num(double v) {
  if (!std::isfinite(v)) v = 0.0;
  std::string s = fmt::format("{:.2f}", v);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";
  return s;
}

namespace {
// Okabe-Ito, without yellow first: blue, vermillion, bluish green, orange, reddish purple,
// sky blue, black, yellow (last: weakest contrast on white).
constexpr std::array<std::string_view, 8> kPalette{"#0072B2", "#D55E00", "#009E73", "#E69F00",
                                                   "#CC79A7", "#56B4E9", "#000000", "#F0E442"};
constexpr std::array<Marker, 4> kMarkers{Marker::circle, Marker::square, Marker::triangle,
                                         Marker::diamond};

std::string attr(std::string_view name, std::string_view value) {
  if (value.empty()) return {};
  return fmt::format(" {}=\"{}\"", name, escape(value));
}
}  // namespace

std::string_view palette_colour(std::size_t index) { return kPalette[index % kPalette.size()]; }
Marker palette_marker(std::size_t index) { return kMarkers[index % kMarkers.size()]; }

Document::Document(double width, double height, std::string_view id, std::string_view title) {
  out_ = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\""
      "{2} role=\"img\" font-family=\"Helvetica, Arial, sans-serif\">\n<title>{3}</title>\n",
      num(width), num(height), attr("id", id), escape(title));
  rect(0, 0, width, height, "#ffffff");
}

void Document::rect(double x, double y, double w, double h, std::string_view fill,
                    std::string_view stroke, std::string_view cls) {
  out_ += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"{}{}/>\n", num(x),
                      num(y), num(std::max(0.0, w)), num(std::max(0.0, h)), escape(fill),
                      stroke == "none" ? std::string() : attr("stroke", stroke), attr("class", cls));
}

void Document::line(double x1, double y1, double x2, double y2, std::string_view stroke,
                    double stroke_width, std::string_view dash, std::string_view cls) {
  out_ += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\"{}{}/>\n",
                      num(x1), num(y1), num(x2), num(y2), escape(stroke), num(stroke_width),
                      attr("stroke-dasharray", dash), attr("class", cls));
}

void Document::polyline(const std::vector<std::pair<double, double>>& points, std::string_view stroke,
                        double stroke_width, std::string_view dash, std::string_view cls) {
  std::string pts;
  for (const auto& [x, y] : points) {
    if (!pts.empty()) pts += ' ';
    pts += num(x) + "," + num(y);
  }
  out_ += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\"{}{}/>\n", pts,
                      escape(stroke), num(stroke_width), attr("stroke-dasharray", dash), attr("class", cls));
}

void Document::marker(Marker m, double x, double y, double r, std::string_view fill,
                      std::string_view tooltip, std::string_view cls) {
  std::string shape;
  const std::string common = fmt::format(" fill=\"{}\" stroke=\"#ffffff\" stroke-width=\"1\"{}", escape(fill),
                                         attr("class", cls));
  switch (m) {
    case Marker::circle:
      shape = fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"{}\"{}", num(x), num(y), num(r), common);
      break;
    case Marker::square:
      shape = fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"{}", num(x - r), num(y - r),
                          num(2 * r), num(2 * r), common);
      break;
    case Marker::triangle:
      shape = fmt::format("<polygon points=\"{},{} {},{} {},{}\"{}", num(x), num(y - 1.2 * r), num(x - 1.1 * r),
                          num(y + 0.9 * r), num(x + 1.1 * r), num(y + 0.9 * r), common);
      break;
    case Marker::diamond:
      shape = fmt::format("<polygon points=\"{},{} {},{} {},{} {},{}\"{}", num(x), num(y - 1.3 * r),
                          num(x + 1.3 * r), num(y), num(x), num(y + 1.3 * r), num(x - 1.3 * r), num(y), common);
      break;
  }
  if (tooltip.empty()) {
    out_ += shape + "/>\n";
  } else {
    const std::string_view tag = m == Marker::circle ? "circle" : m == Marker::square ? "rect" : "polygon";
    out_ += fmt::format("{}><title>{}</title></{}>\n", shape, escape(tooltip), tag);
  }
}

void Document::text(double x, double y, std::string_view content, std::string_view anchor, double size,
                    double rotate, std::string_view cls, std::string_view weight) {
  const std::string transform =
      rotate == 0.0 ? std::string() : fmt::format(" transform=\"rotate({} {} {})\"", num(rotate), num(x), num(y));
  out_ += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"{}\" fill=\"#222222\"{}{}{}>{}</text>\n",
                      num(x), num(y), num(size), escape(anchor), transform, attr("font-weight", weight),
                      attr("class", cls), escape(content));
}

void Document::open_group(std::string_view id_or_empty, std::string_view cls) {
  out_ += fmt::format("<g{}{}>\n", attr("id", id_or_empty), attr("class", cls));
  ++open_groups_;
}

void Document::close_group() {
  if (open_groups_ == 0) return;
  out_ += "</g>\n";
  --open_groups_;
}

std::string Document::finish() {
  while (open_groups_ > 0) close_group();
  out_ += "</svg>\n";
  return std::move(out_);
}

// --- axes -------------------------------------------------------------------------------------

std::string si(double v) { return numfmt::si3_tight(v); }  // one formatter for axes and tables

std::vector<Tick> linear_ticks(double lo, double hi, int target, bool percent) {
  std::vector<Tick> ticks;
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return ticks;
  const double raw = (hi - lo) / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (const double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  const double scale = percent ? 100.0 : 1.0;
  const int decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step * scale) + 1e-9)));
  const double first = std::ceil(lo / step - 1e-9) * step;
  for (int i = 0;; ++i) {
    const double v = first + i * step;
    if (v > hi + step * 1e-9 || i > 1000) break;
    const double shown = std::fabs(v) < step * 1e-9 ? 0.0 : v;
    ticks.push_back({shown, fmt::format("{:.{}f}{}", shown * scale, decimals, percent ? "%" : "")});
  }
  return ticks;
}

std::pair<double, double> log_range(double lo, double hi) {
  double a = std::pow(10.0, std::floor(std::log10(lo) + 1e-12));
  double b = std::pow(10.0, std::ceil(std::log10(hi) - 1e-12));
  if (b <= a) b = a * 10.0;
  return {a, b};
}

std::vector<Tick> log_ticks(double lo, double hi) {
  std::vector<Tick> ticks;
  if (!(lo > 0.0) || !(hi > lo)) return ticks;
  const int e0 = static_cast<int>(std::floor(std::log10(lo) + 1e-12));
  const int e1 = static_cast<int>(std::ceil(std::log10(hi) - 1e-12));
  const bool intermediate = e1 - e0 < 3;
  for (int e = e0; e <= e1; ++e) {
    for (const double m : {1.0, 2.0, 5.0}) {
      if (m != 1.0 && !intermediate) continue;
      const double v = m * std::pow(10.0, e);
      if (v < lo * (1 - 1e-9) || v > hi * (1 + 1e-9)) continue;
      ticks.push_back({v, si(v)});
    }
  }
  return ticks;
}

double Scale::operator()(double v) const {
  double t = 0.0;
  if (log) {
    const double a = std::log10(d0), b = std::log10(d1);
    t = (b == a || !(v > 0.0)) ? 0.0 : (std::log10(v) - a) / (b - a);
  } else {
    t = d1 == d0 ? 0.0 : (v - d0) / (d1 - d0);
  }
  return p0 + t * (p1 - p0);
}

}  // namespace tenx::eval::svg
