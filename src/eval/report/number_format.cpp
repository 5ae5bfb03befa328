// The printed number forms (include/tenx/eval/report/number_format.hpp).
#include "tenx/eval/report/number_format.hpp"

#include <fmt/format.h>

#include <cmath>
#include <utility>

namespace tenx::eval::numfmt {

std::string si3(double x) {
  const char* units[] = {"", " k", " M", " G", " T", " P", " E"};
  int u = 0;
  while (std::abs(x) >= 1000 && u < 6) {
    x /= 1000;
    ++u;
  }
  return fmt::format("{:.3g}{}", x, units[u]);
}

std::string si3_tight(double v) {
  if (v == 0.0 || !std::isfinite(v)) return "0";
  static constexpr std::pair<double, const char*> kPrefixes[] = {
      {1e15, "P"}, {1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}};
  // 999.6 rounds to 3 digits as "1e+03": from 0.9995 of a prefix on, the prefix is used ("1k").
  for (const auto& [s, p] : kPrefixes)
    if (std::fabs(v) >= s * 0.9995) return fmt::format("{:.3g}{}", v / s, p);
  return fmt::format("{:.3g}", v);
}

std::string count2(double n) {
  const char* units[] = {"", " K", " M", " G", " T", " P"};
  int u = 0;
  while (n >= 1000 && u < 5) {
    n /= 1000;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f}", n) : fmt::format("{:.2f}{}", n, units[u]);
}

namespace {
std::string binary(double n, const char* form) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (n >= 1024 && u < 4) {
    n /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} B", n) : fmt::format(fmt::runtime(form), n, units[u]);
}
}  // namespace

std::string bytes1(double n) { return binary(n, "{:.1f} {}"); }
std::string bytes2(double n) { return binary(n, "{:.2f} {}"); }

std::string fixed3(double x) { return fmt::format("{:.3f}", x); }

std::string signed3(double x) {
  if (std::abs(x) < 0.0005) return "0.000";
  return fmt::format("{}{:.3f}", x < 0 ? "\u2212" : "+", std::abs(x));
}

std::string estimate_ci(const std::optional<Estimate>& e) {
  if (!e) return "N/A";
  return fmt::format("{:.3f} [{:.3f}, {:.3f}]", e->value, e->ci.lower, e->ci.upper);
}

std::string confidence_level(double confidence) { return fmt::format("{:g}%", confidence * 100); }
std::string percent1(double share) { return fmt::format("{:.1f}%", 100.0 * share); }
std::string points_signed1(double d) { return fmt::format("{:+.1f}", 100.0 * d); }
std::string change_signed1(double r) { return fmt::format("{:+.1f}%", 100.0 * r); }

std::string sig3(double x) { return fmt::format("{:.3g}", x); }
std::string ratio2(const std::optional<double>& r) { return r ? fmt::format("{:.2f}x", *r) : std::string("unknown"); }
std::string p_value4(double p) { return p < 0.0001 ? "<0.0001" : fmt::format("{:.4f}", p); }
std::string p_value_sci(double p) { return p < 1e-4 ? fmt::format("{:.1e}", p) : fmt::format("{:.4f}", p); }

std::string millis(double seconds) {
  const double ms = 1e3 * seconds;
  return ms < 10.0 ? fmt::format("{:.2f}", ms) : fmt::format("{:.1f}", ms);
}

}  // namespace tenx::eval::numfmt
