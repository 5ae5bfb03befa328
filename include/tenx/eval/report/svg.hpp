#pragma once
// A small SVG writer for the report's plots: elements are appended as text with every number
// printed at a fixed precision, so the same data gives byte-identical files (the plots are
// compared across runs and committed to CI artefacts). No scripts, no external references.
#include <string>
#include <string_view>
#include <vector>

namespace tenx::eval::svg {

// XML text and attribute escaping (& < > " '); control characters other than tab/newline are
// dropped because XML 1.0 forbids them even escaped.
std::string escape(std::string_view text);

// At most `max_bytes` bytes of `text`, cut at a UTF-8 character boundary, with "…" appended
// when something was cut (long model names must not run over the plot).
std::string truncate_utf8(std::string_view text, std::size_t max_bytes);

// A number as SVG wants it: two decimals, no trailing zeros, never "-0", never NaN/inf (0).
std::string num(double v);

// Colour-blind-safe palette (Okabe & Ito 2008, "Color Universal Design"), ordered so the first
// colours have the most contrast on white; index wraps around.
std::string_view palette_colour(std::size_t index);

// Marker shapes cycle with the colours so series stay distinct in grey-scale print as well.
enum class Marker { circle, square, triangle, diamond };
Marker palette_marker(std::size_t index);

class Document {
 public:
  // `id` is the root <svg id>, `title` its <title> (the accessible name and the tooltip).
  Document(double width, double height, std::string_view id, std::string_view title);

  void rect(double x, double y, double w, double h, std::string_view fill,
            std::string_view stroke = "none", std::string_view cls = "");
  void line(double x1, double y1, double x2, double y2, std::string_view stroke,
            double stroke_width = 1.0, std::string_view dash = "", std::string_view cls = "");
  void polyline(const std::vector<std::pair<double, double>>& points, std::string_view stroke,
                double stroke_width = 1.5, std::string_view dash = "", std::string_view cls = "");
  // A marker centred at (x, y) with half-size r; `tooltip` becomes its <title>.
  void marker(Marker m, double x, double y, double r, std::string_view fill,
              std::string_view tooltip = "", std::string_view cls = "");
  // anchor: "start", "middle" or "end"; rotate: degrees around (x, y).
  void text(double x, double y, std::string_view content, std::string_view anchor = "start",
            double size = 12.0, double rotate = 0.0, std::string_view cls = "",
            std::string_view weight = "");
  void open_group(std::string_view id_or_empty, std::string_view cls = "");
  void close_group();

  // The complete document (the closing tag is added here; call once).
  std::string finish();

 private:
  std::string out_;
  int open_groups_ = 0;
};

// --- axes -------------------------------------------------------------------------------------

struct Tick {
  double value = 0.0;
  std::string label;
};

// "Nice" linear ticks (steps of 1, 2 or 5 times a power of ten) covering [lo, hi], about
// `target` of them, labels with just enough decimals (or as percentages when percent = true).
std::vector<Tick> linear_ticks(double lo, double hi, int target = 6, bool percent = false);

// Ticks at powers of ten inside [lo, hi] (lo > 0), with 2 and 5 in between when the range spans
// fewer than three decades; labels with SI prefixes ("10M", "2G").
std::vector<Tick> log_ticks(double lo, double hi);

// A number with an SI prefix and up to three significant digits: 1.5e9 -> "1.5G".
std::string si(double v);

// A linear or logarithmic map from data to pixels.
struct Scale {
  double d0 = 0.0, d1 = 1.0;  // data range
  double p0 = 0.0, p1 = 1.0;  // pixel range (p1 < p0 for a y axis)
  bool log = false;
  double operator()(double v) const;
};

// Padded data range for a log axis: whole decades around [lo, hi] (lo, hi > 0).
std::pair<double, double> log_range(double lo, double hi);

}  // namespace tenx::eval::svg
