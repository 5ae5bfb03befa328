// Proportions, paired differences, exact and rank tests, summaries (see stats.hpp and
// docs/statistics.md for the formulas and their sources).
#include "tenx/eval/stats/stats.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include <fmt/format.h>

#include "tenx/util/error.hpp"

namespace tenx::eval {
namespace {

void check_confidence(double confidence) {
  if (!(confidence > 0.0 && confidence < 1.0))
    throw Error("confidence", fmt::format("must be in (0, 1), got {}", confidence));
}

std::vector<double> sorted_copy(std::span<const double> values, const char* what) {
  if (values.empty()) throw Error(what, "no values");
  std::vector<double> v(values.begin(), values.end());
  for (double x : v)
    if (std::isnan(x)) throw Error(what, "a value is NaN");
  std::sort(v.begin(), v.end());
  return v;
}

// log(exp(x) + exp(y)) without overflow.
double log_add(double x, double y) {
  if (x == -INFINITY) return y;
  if (y == -INFINITY) return x;
  const double hi = std::max(x, y), lo = std::min(x, y);
  return hi + std::log1p(std::exp(lo - hi));
}

}  // namespace

// --- the normal distribution ------------------------------------------------------------------

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::numbers::sqrt2); }

double normal_quantile(double p) {
  if (!(p > 0.0 && p < 1.0))
    throw Error("normal_quantile", fmt::format("probability must be in (0, 1), got {}", p));
  // Acklam (2003) rational approximations, relative error < 1.15e-9 on their own...
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549732539343734e+00,
                                 4.374664141464968e+00, 2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00};
  constexpr double p_low = 0.02425;
  double x;
  if (p < p_low) {
    const double q = std::sqrt(-2.0 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
  } else if (p <= 1.0 - p_low) {
    const double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
  } else {
    const double q = std::sqrt(-2.0 * std::log1p(-p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
  }
  // ...and one Halley step on Phi(x) - p brings them to full double precision. The residual is
  // taken in the smaller tail so it is not swamped by rounding of a probability near 1.
  const double e = (p <= 0.5) ? normal_cdf(x) - p : (1.0 - p) - normal_cdf(-x);
  const double u = e * std::sqrt(2.0 * std::numbers::pi) * std::exp(0.5 * x * x);
  return x - u / (1.0 + 0.5 * x * u);
}

double two_sided_z(double confidence) {
  check_confidence(confidence);
  return normal_quantile(1.0 - (1.0 - confidence) / 2.0);
}

// --- one proportion ---------------------------------------------------------------------------

Interval wilson_interval(std::uint64_t successes, std::uint64_t trials, double confidence) {
  if (trials == 0) throw Error("wilson_interval", "no trials");
  if (successes > trials)
    throw Error("wilson_interval",
                fmt::format("{} successes out of only {} trials", successes, trials));
  const double z = two_sided_z(confidence), z2 = z * z;
  const double n = static_cast<double>(trials), x = static_cast<double>(successes);
  // The roots of (p - x/n)^2 = z^2 p (1 - p) / n, written to avoid cancellation.
  const double centre = (x + z2 / 2.0) / (n + z2);
  const double half = z / (n + z2) * std::sqrt(x * (n - x) / n + z2 / 4.0);
  Interval ci{centre - half, centre + half};
  // At the edges the formula gives 0 and 1 up to rounding; make them exact.
  if (successes == 0) ci.lower = 0.0;
  if (successes == trials) ci.upper = 1.0;
  ci.lower = std::max(0.0, ci.lower);
  ci.upper = std::min(1.0, ci.upper);
  return ci;
}

// --- two paired proportions -------------------------------------------------------------------

double PairedTable::candidate_accuracy() const {
  return n() ? static_cast<double>(a + b) / static_cast<double>(n()) : 0.0;
}
double PairedTable::baseline_accuracy() const {
  return n() ? static_cast<double>(a + c) / static_cast<double>(n()) : 0.0;
}
double PairedTable::difference() const {
  return n() ? (static_cast<double>(b) - static_cast<double>(c)) / static_cast<double>(n()) : 0.0;
}

PairedTable paired_table(std::span<const double> candidate, std::span<const double> baseline) {
  if (candidate.size() != baseline.size())
    throw Error("paired_table", fmt::format("{} candidate scores but {} baseline scores",
                                            candidate.size(), baseline.size()));
  PairedTable t;
  for (size_t i = 0; i < candidate.size(); ++i) {
    const double x = candidate[i], y = baseline[i];
    if ((x != 0.0 && x != 1.0) || (y != 0.0 && y != 1.0))
      throw Error("paired_table", fmt::format("item {}: scores must be 0 or 1, got {} and {}",
                                              i, x, y));
    if (x == 1.0 && y == 1.0) ++t.a;
    else if (x == 1.0) ++t.b;
    else if (y == 1.0) ++t.c;
    else ++t.d;
  }
  return t;
}

Interval newcombe_paired_interval(const PairedTable& t, double confidence) {
  if (t.n() == 0) throw Error("newcombe_paired_interval", "empty table");
  const double n = static_cast<double>(t.n());
  const double p1 = t.candidate_accuracy(), p2 = t.baseline_accuracy();
  const Interval w1 = wilson_interval(t.a + t.b, t.n(), confidence);
  const Interval w2 = wilson_interval(t.a + t.c, t.n(), confidence);
  // phi: the correlation of the two margins, 0 when a margin is empty; when positive it is
  // shrunk by n/2 (Newcombe's continuity adjustment of phi), which widens the interval.
  const double A = static_cast<double>(t.a), B = static_cast<double>(t.b),
               C = static_cast<double>(t.c), D = static_cast<double>(t.d);
  const double margins = (A + B) * (C + D) * (A + C) * (B + D);
  double phi = 0.0;
  if (margins > 0.0) {
    const double cross = A * D - B * C;
    phi = (cross > 0.0 ? std::max(cross - n / 2.0, 0.0) : cross) / std::sqrt(margins);
  }
  const double dl1 = p1 - w1.lower, du1 = w1.upper - p1;
  const double dl2 = p2 - w2.lower, du2 = w2.upper - p2;
  const double diff = p1 - p2;
  // max(0, .) guards a negative radicand from rounding when phi is near 1.
  const double delta = std::sqrt(std::max(0.0, dl1 * dl1 - 2.0 * phi * dl1 * du2 + du2 * du2));
  const double eps = std::sqrt(std::max(0.0, du1 * du1 - 2.0 * phi * du1 * dl2 + dl2 * dl2));
  return {std::max(-1.0, diff - delta), std::min(1.0, diff + eps)};
}

namespace {

// Loader (2000) "Fast and accurate computation of binomial probabilities", as used by R's
// dbinom: log C(n, k) 2^-n by lgamma differences loses ~1e-9 relative at n = 1e6 (three
// numbers near 1e7 cancel); the saddle-point form below keeps full precision.

// stirlerr(n) = log(n!) - log(sqrt(2 pi n) (n/e)^n).
double stirling_error(double n) {
  if (n <= 15.0) {
    const double log_sqrt_2pi = 0.5 * std::log(2.0 * std::numbers::pi);
    return std::lgamma(n + 1.0) - (n + 0.5) * std::log(n) + n - log_sqrt_2pi;
  }
  constexpr double s0 = 1.0 / 12, s1 = 1.0 / 360, s2 = 1.0 / 1260, s3 = 1.0 / 1680,
                   s4 = 1.0 / 1188;
  const double nn = n * n;
  if (n > 500) return (s0 - s1 / nn) / n;
  if (n > 80) return (s0 - (s1 - s2 / nn) / nn) / n;
  if (n > 35) return (s0 - (s1 - (s2 - s3 / nn) / nn) / nn) / n;
  return (s0 - (s1 - (s2 - (s3 - s4 / nn) / nn) / nn) / nn) / n;
}

// bd0(x, m) = x log(x/m) + m - x, by its series when x is close to m (where the direct form
// cancels).
double deviance_term(double x, double m) {
  if (std::abs(x - m) < 0.1 * (x + m)) {
    const double v = (x - m) / (x + m);
    double s = (x - m) * v, ej = 2.0 * x * v;
    for (int j = 1; j < 1000; ++j) {
      ej *= v * v;
      const double next = s + ej / (2 * j + 1);
      if (next == s) return next;
      s = next;
    }
    return s;
  }
  return x * std::log(x / m) + m - x;
}

// log P(X = k), X ~ Bin(n, 1/2).
double log_binomial_half_pmf(std::uint64_t k, std::uint64_t n) {
  const double nn = static_cast<double>(n), x = static_cast<double>(k);
  if (k == 0 || k == n) return -nn * std::numbers::ln2;
  const double half = nn / 2.0;
  return stirling_error(nn) - stirling_error(x) - stirling_error(nn - x) -
         deviance_term(x, half) - deviance_term(nn - x, half) +
         0.5 * std::log(nn / (2.0 * std::numbers::pi * x * (nn - x)));
}

}  // namespace

double log_binomial_half_cdf(std::uint64_t k, std::uint64_t n) {
  if (k > n) throw Error("log_binomial_half_cdf", fmt::format("k = {} > n = {}", k, n));
  if (k == n) return 0.0;
  // Sum from k down: below the mode the terms fall at least geometrically, so the tail past
  // 1e-20 of the running sum is negligible and large n stays cheap.
  double total = -INFINITY;
  for (std::uint64_t i = k + 1; i-- > 0;) {
    const double term = log_binomial_half_pmf(i, n);
    total = log_add(total, term);
    if (2 * i < n && term < total - 46.0) break;  // e^-46 ~ 1e-20
  }
  return std::min(0.0, total);
}

double mcnemar_exact_p(std::uint64_t b, std::uint64_t c) {
  const std::uint64_t n = b + c;
  if (n == 0) return 1.0;
  const double log_tail = log_binomial_half_cdf(std::min(b, c), n);
  return std::min(1.0, 2.0 * std::exp(log_tail));
}

// --- Mann-Whitney U ---------------------------------------------------------------------------

namespace {

// P(U >= u) under H0 for samples of sizes m and n without ties, by the recurrence on the count
// of arrangements f(m, n, u) = f(m-1, n, u-n) + f(m, n-1, u) (Mann & Whitney 1947).
double exact_upper_tail(std::size_t m, std::size_t n, double u) {
  const std::size_t max_u = m * n;
  // counts[j][v]: arrangements of (i first-sample, j second-sample) values with U = v, built up
  // over i; doubles hold C(40, 20) ~ 1.4e11 exactly.
  std::vector<std::vector<double>> counts(n + 1, std::vector<double>(max_u + 1, 0.0));
  for (std::size_t j = 0; j <= n; ++j) counts[j][0] = 1.0;  // i = 0: U = 0 only
  for (std::size_t i = 1; i <= m; ++i) {
    std::vector<std::vector<double>> next(n + 1, std::vector<double>(max_u + 1, 0.0));
    next[0][0] = 1.0;
    for (std::size_t j = 1; j <= n; ++j)
      for (std::size_t v = 0; v <= i * j; ++v)
        next[j][v] = (v >= j ? counts[j][v - j] : 0.0) + next[j - 1][v];
    counts.swap(next);
  }
  double total = 0.0, tail = 0.0;
  for (std::size_t v = 0; v <= max_u; ++v) {
    total += counts[n][v];
    if (static_cast<double>(v) >= u - 1e-9) tail += counts[n][v];
  }
  return tail / total;
}

}  // namespace

MannWhitneyResult mann_whitney_u(std::span<const double> x, std::span<const double> y,
                                 MannWhitneyMethod method) {
  if (x.empty() || y.empty()) throw Error("mann_whitney_u", "both samples need values");
  const std::size_t n1 = x.size(), n2 = y.size(), n = n1 + n2;
  struct Entry {
    double value;
    bool first;
  };
  std::vector<Entry> all;
  all.reserve(n);
  for (double v : x) all.push_back({v, true});
  for (double v : y) all.push_back({v, false});
  for (const Entry& e : all)
    if (std::isnan(e.value)) throw Error("mann_whitney_u", "a value is NaN");
  std::sort(all.begin(), all.end(), [](const Entry& l, const Entry& r) { return l.value < r.value; });

  // Average ranks (1-based) for ties; collect sum(t^3 - t) for the tie correction.
  double rank_sum_x = 0.0, tie_term = 0.0;
  bool ties = false;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && all[j].value == all[i].value) ++j;
    const double t = static_cast<double>(j - i);
    const double avg_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (std::size_t k = i; k < j; ++k)
      if (all[k].first) rank_sum_x += avg_rank;
    if (j - i > 1) {
      ties = true;
      tie_term += t * t * t - t;
    }
    i = j;
  }
  const double m1 = static_cast<double>(n1), m2 = static_cast<double>(n2);
  MannWhitneyResult r;
  r.u = rank_sum_x - m1 * (m1 + 1.0) / 2.0;
  const double u_big = std::max(r.u, m1 * m2 - r.u);

  const bool small = n1 <= 20 && n2 <= 20;
  bool use_exact = method == MannWhitneyMethod::exact ||
                   (method == MannWhitneyMethod::automatic && small && !ties);
  if (method == MannWhitneyMethod::exact && (!small || ties))
    throw Error("mann_whitney_u", ties ? "exact p-value needs samples without ties"
                                       : "exact p-value limited to samples of at most 20");
  if (use_exact) {
    r.exact = true;
    r.p_value = std::min(1.0, 2.0 * exact_upper_tail(n1, n2, u_big));
    return r;
  }
  const double nn = static_cast<double>(n);
  const double mu = m1 * m2 / 2.0;
  const double var = m1 * m2 / 12.0 * ((nn + 1.0) - tie_term / (nn * (nn - 1.0)));
  if (var <= 0.0) {  // every value equal: no evidence either way
    r.p_value = 1.0;
    return r;
  }
  const double z = (u_big - mu - 0.5) / std::sqrt(var);
  r.p_value = std::min(1.0, 2.0 * normal_cdf(-z));
  return r;
}

// --- summaries --------------------------------------------------------------------------------

double percentile_of_sorted(std::span<const double> sorted, double q) {
  if (sorted.empty()) throw Error("percentile", "no values");
  if (!(q >= 0.0 && q <= 100.0))
    throw Error("percentile", fmt::format("q must be in [0, 100], got {}", q));
  const double h = static_cast<double>(sorted.size() - 1) * q / 100.0;
  const std::size_t lo = static_cast<std::size_t>(std::floor(h));
  if (lo + 1 >= sorted.size()) return sorted.back();
  const double frac = h - static_cast<double>(lo);
  return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

double percentile(std::span<const double> values, double q) {
  const std::vector<double> v = sorted_copy(values, "percentile");
  return percentile_of_sorted(v, q);
}

double mean(std::span<const double> values) {
  if (values.empty()) throw Error("mean", "no values");
  double s = 0.0;
  for (double v : values) s += v;
  return s / static_cast<double>(values.size());
}

double sample_stddev(std::span<const double> values) {
  const double m = mean(values);
  if (values.size() < 2) return 0.0;
  double ss = 0.0;
  for (double v : values) ss += (v - m) * (v - m);  // two-pass: no cancellation
  return std::sqrt(ss / static_cast<double>(values.size() - 1));
}

double standard_error(std::span<const double> values) {
  return sample_stddev(values) / std::sqrt(static_cast<double>(values.size()));
}

Summary summarize(std::span<const double> values) {
  const std::vector<double> v = sorted_copy(values, "summarize");
  Summary s;
  s.count = v.size();
  s.mean = mean(v);
  s.stddev = sample_stddev(v);
  s.standard_error = s.stddev / std::sqrt(static_cast<double>(v.size()));
  s.min = v.front();
  s.max = v.back();
  s.p50 = percentile_of_sorted(v, 50.0);
  s.p90 = percentile_of_sorted(v, 90.0);
  s.p95 = percentile_of_sorted(v, 95.0);
  s.p99 = percentile_of_sorted(v, 99.0);
  return s;
}

}  // namespace tenx::eval
