#pragma once
// One set of number formatters for everything tenx prints or writes (the console table of
// `tenx run`, summary.md, the claim's tables of `tenx verify`, `tenx compare`). Each function is
// one printed form that already existed; they differ on purpose (a console column is narrow, a
// Markdown cell is not), so a form is chosen by name, never rebuilt with a new format string.
#include <optional>
#include <string>

#include "tenx/eval/report/metrics.hpp"

namespace tenx::eval::numfmt {

// FLOPs, parameters, counts with SI prefixes.
std::string si3(double x);         // 3 significant digits, " k"/" M"/" G"/" T"/" P"/" E": "1.23 G", "950"
std::string si3_tight(double x);   // same digits, no space, up to "P": "1.23G" (compare)
std::string count2(double n);      // 2 decimals, " K"/" M"/" G"/" T"/" P": "1.23 G", "950" (console)

// Bytes in binary units.
std::string bytes1(double n);  // "512 B", "1.5 MiB"
std::string bytes2(double n);  // "512 B", "1.50 MiB"

// Proportions and intervals.
std::string fixed3(double x);                        // "0.500"
std::string signed3(double x);                       // "+0.012", "−0.012" (U+2212), "0.000" near zero
std::string estimate_ci(const std::optional<Estimate>& e);  // "0.500 [0.400, 0.600]", "N/A"
std::string confidence_level(double confidence);     // 0.95 -> "95%"
std::string percent1(double share);                  // 0.123 -> "12.3%"
std::string points_signed1(double d);                // 0.012 -> "+1.2" (percentage points)
std::string change_signed1(double r);                // 0.012 -> "+1.2%"

// Other figures.
std::string sig3(double x);                        // "{:.3g}": seconds, items per second
std::string ratio2(const std::optional<double>& r);  // "2.50x", "unknown"
std::string p_value4(double p);                    // "0.0312", "<0.0001" (the claim's tables)
std::string p_value_sci(double p);                 // "0.0312", "3.0e-05" (compare)
std::string millis(double seconds);                // 0.0042 -> "4.20", 0.042 -> "42.0"

}  // namespace tenx::eval::numfmt
