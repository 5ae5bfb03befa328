#pragma once
// Statistics for comparing two models on the same items: intervals for proportions and for the
// difference of paired proportions, exact and rank tests, and summaries of measurements.
// Pure functions, no I/O. Every method, its formula and its published source is written up in
// docs/statistics.md; the tests check each against published values.
#include <cstdint>
#include <span>
#include <string>

namespace tenx::eval {

// A two-sided confidence interval [lower, upper].
struct Interval {
  double lower = 0.0;
  double upper = 0.0;
  bool contains(double x) const { return lower <= x && x <= upper; }
  double width() const { return upper - lower; }
};

// --- the normal distribution ------------------------------------------------------------------

// Phi(x) = P(Z <= x), Z ~ N(0, 1), through erfc so the tails keep their relative accuracy.
double normal_cdf(double x);
// Phi^{-1}(p) for p in (0, 1): Acklam's rational approximation refined by one Halley step
// (agrees with Wichura's AS241 to 1e-12 in the tests). Throws tenx::Error outside (0, 1).
double normal_quantile(double p);
// The two-sided critical value z_{1 - (1 - confidence)/2}, e.g. 1.959964 for 0.95.
double two_sided_z(double confidence);

// --- one proportion ---------------------------------------------------------------------------

// Wilson score interval for successes/trials (Wilson 1927; Newcombe 1998 "Two-sided confidence
// intervals for the single proportion", method 3). Always inside [0, 1]; 0/n gives lower 0 and
// n/n upper 1. Throws when trials == 0, successes > trials or confidence is outside (0, 1).
Interval wilson_interval(std::uint64_t successes, std::uint64_t trials, double confidence = 0.95);

// --- two paired proportions (the same items scored by both models) ----------------------------

// The paired 2x2 table, "first" = candidate, "second" = baseline:
//                  baseline right   baseline wrong
//   cand. right         a                 b
//   cand. wrong         c                 d
// so candidate accuracy = (a+b)/n, baseline accuracy = (a+c)/n, difference = (b-c)/n.
struct PairedTable {
  std::uint64_t a = 0;  // both right
  std::uint64_t b = 0;  // candidate right, baseline wrong
  std::uint64_t c = 0;  // candidate wrong, baseline right
  std::uint64_t d = 0;  // both wrong
  std::uint64_t n() const { return a + b + c + d; }
  double candidate_accuracy() const;
  double baseline_accuracy() const;
  double difference() const;  // candidate - baseline = (b - c) / n
};

// Builds the table from per-item correctness (each value must be exactly 0 or 1, both spans the
// same length, item i of one is item i of the other). Throws tenx::Error otherwise.
PairedTable paired_table(std::span<const double> candidate, std::span<const double> baseline);

// Newcombe's hybrid score interval for the difference of paired proportions, candidate -
// baseline (Newcombe 1998, Stat Med 17:2635, method 10), with the corrected phi: Wilson limits
// (l1,u1) for the candidate and (l2,u2) for the baseline combined as
//   L = D - sqrt((p1-l1)^2 - 2 phi (p1-l1)(u2-p2) + (u2-p2)^2)
//   U = D + sqrt((u1-p1)^2 - 2 phi (u1-p1)(p2-l2) + (p2-l2)^2)
// Throws when the table is empty.
Interval newcombe_paired_interval(const PairedTable& table, double confidence = 0.95);

// Exact two-sided McNemar test on the discordant pairs: p = min(1, 2 P(X <= min(b, c))),
// X ~ Bin(b + c, 1/2); 1 when b + c == 0. Computed in log space (b + c up to 1e6 and beyond).
double mcnemar_exact_p(std::uint64_t b, std::uint64_t c);

// log P(X <= k) for X ~ Bin(n, 1/2), k <= n: the building block of the McNemar test.
double log_binomial_half_cdf(std::uint64_t k, std::uint64_t n);

// --- two independent samples (e.g. latencies of two binaries) ---------------------------------

enum class MannWhitneyMethod {
  automatic,   // exact when both samples have <= 20 values and there are no ties
  asymptotic,  // normal approximation, tie and continuity corrected
  exact,       // distribution of U by counting; throws on ties or samples over 20
};

struct MannWhitneyResult {
  double u = 0.0;        // U of the first sample: pairs (x_i, y_j) with x_i > y_j, ties 1/2
  double p_value = 1.0;  // two-sided
  bool exact = false;    // which method produced p_value
};

// Mann-Whitney U test, two-sided, matching scipy.stats.mannwhitneyu(x, y) with method
// 'asymptotic' (use_continuity=True) or 'exact'. Throws when either sample is empty.
MannWhitneyResult mann_whitney_u(std::span<const double> x, std::span<const double> y,
                                 MannWhitneyMethod method = MannWhitneyMethod::automatic);

// --- summaries of measurements ----------------------------------------------------------------

// The q-th percentile (q in [0, 100]) with linear interpolation between order statistics:
// position h = (n-1) q/100, value x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h]), as
// numpy.percentile's default method 'linear'. `values` need not be sorted. Throws when empty.
double percentile(std::span<const double> values, double q);
// The same on values already sorted ascending (no copy).
double percentile_of_sorted(std::span<const double> sorted, double q);

double mean(std::span<const double> values);            // throws when empty
double sample_stddev(std::span<const double> values);   // n-1 denominator; 0 for one value
double standard_error(std::span<const double> values);  // sample_stddev / sqrt(n)

struct Summary {
  std::size_t count = 0;
  double mean = 0.0;
  double stddev = 0.0;          // sample standard deviation (n - 1)
  double standard_error = 0.0;  // stddev / sqrt(n)
  double min = 0.0;
  double p50 = 0.0;
  double p90 = 0.0;
  double p95 = 0.0;
  double p99 = 0.0;
  double max = 0.0;
};
// All of the above in one pass over a sorted copy. Throws when empty or when a value is NaN.
Summary summarize(std::span<const double> values);

}  // namespace tenx::eval
