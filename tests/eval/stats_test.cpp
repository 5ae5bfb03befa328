// Statistics against published values; each expected value names its source.
#include "tenx/eval/stats/stats.hpp"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "tenx/util/error.hpp"

namespace tenx::eval {
namespace {

// --- normal distribution ----------------------------------------------------------------------

TEST(NormalQuantile, MatchesPublishedQuantiles) {
  // Reference values: Python 3 statistics.NormalDist().inv_cdf, which implements Wichura's
  // AS241 (PPND16, ~1e-16); the first three are also in every z table (1.96, 1.645, 3.09).
  EXPECT_NEAR(normal_quantile(0.975), 1.9599639845400536, 1e-12);
  EXPECT_NEAR(normal_quantile(0.95), 1.6448536269514715, 1e-12);
  EXPECT_NEAR(normal_quantile(0.999), 3.090232306167813, 1e-12);
  EXPECT_NEAR(normal_quantile(0.8), 0.8416212335729144, 1e-12);
  EXPECT_NEAR(normal_quantile(0.02425), -1.9729610513118845, 1e-12);  // Acklam's region seam
  EXPECT_NEAR(normal_quantile(1e-10), -6.361340902404056, 1e-9);
  EXPECT_EQ(normal_quantile(0.5), 0.0);
  EXPECT_NEAR(normal_quantile(0.025), -normal_quantile(0.975), 1e-14);
}

TEST(NormalQuantile, InvertsTheCdfAcrossTheRange) {
  for (double p : {1e-300, 1e-50, 1e-12, 1e-6, 0.001, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99,
                   0.999999}) {
    const double x = normal_quantile(p);
    EXPECT_NEAR(normal_cdf(x) / p, 1.0, 1e-12) << "p = " << p;
  }
}

TEST(NormalQuantile, RejectsProbabilitiesOutsideTheOpenInterval) {
  EXPECT_THROW(normal_quantile(0.0), Error);
  EXPECT_THROW(normal_quantile(1.0), Error);
  EXPECT_THROW(normal_quantile(-0.5), Error);
  EXPECT_THROW(normal_quantile(std::nan("")), Error);
}

TEST(NormalCdf, MatchesTables) {
  // Abramowitz & Stegun table 26.1: Phi(1.96) = 0.9750021048517795, Phi(-3) = 0.0013498980316301
  EXPECT_NEAR(normal_cdf(1.96), 0.9750021048517795, 1e-15);
  EXPECT_NEAR(normal_cdf(-3.0), 0.0013498980316301, 1e-15);
  EXPECT_EQ(normal_cdf(0.0), 0.5);
  EXPECT_NEAR(two_sided_z(0.95), 1.9599639845400536, 1e-12);
}

// --- Wilson -----------------------------------------------------------------------------------

TEST(Wilson, NewcombeExample) {
  // Newcombe (1998) "Two-sided confidence intervals for the single proportion", Stat Med 17:857,
  // Table I, 81/263, method 3 (score): 0.2553 to 0.3662.
  const Interval ci = wilson_interval(81, 263);
  EXPECT_NEAR(ci.lower, 0.2553, 5e-5);
  EXPECT_NEAR(ci.upper, 0.3662, 5e-5);
}

TEST(Wilson, EdgeCasesStayInsideTheUnitInterval) {
  // Same paper, Table I, 0/10: 0 to 0.2775; by symmetry 10/10: 0.7225 to 1.
  Interval zero = wilson_interval(0, 10);
  EXPECT_EQ(zero.lower, 0.0);
  EXPECT_NEAR(zero.upper, 0.2775, 5e-5);
  Interval all = wilson_interval(10, 10);
  EXPECT_NEAR(all.lower, 0.7225, 5e-5);
  EXPECT_EQ(all.upper, 1.0);
  // Other rows of the same table: 1/29 -> 0.0061-0.1718, 15/148 -> 0.0624-0.1605,
  // 0/20 -> 0-0.1611.
  EXPECT_NEAR(wilson_interval(1, 29).lower, 0.0061, 5e-5);
  EXPECT_NEAR(wilson_interval(1, 29).upper, 0.1718, 5e-5);
  EXPECT_NEAR(wilson_interval(15, 148).lower, 0.0624, 5e-5);
  EXPECT_NEAR(wilson_interval(15, 148).upper, 0.1605, 5e-5);
  EXPECT_NEAR(wilson_interval(0, 20).upper, 0.1611, 5e-5);
}

TEST(Wilson, OtherLevelsWiden) {
  const Interval c90 = wilson_interval(50, 100, 0.90), c99 = wilson_interval(50, 100, 0.99);
  EXPECT_LT(c90.width(), wilson_interval(50, 100).width());
  EXPECT_GT(c99.width(), wilson_interval(50, 100).width());
  EXPECT_NEAR(c90.lower + c90.upper, 1.0, 1e-15);  // symmetric at p = 1/2
}

TEST(Wilson, RejectsBadInput) {
  EXPECT_THROW(wilson_interval(0, 0), Error);
  EXPECT_THROW(wilson_interval(5, 4), Error);
  EXPECT_THROW(wilson_interval(1, 4, 1.0), Error);
}

// --- Newcombe paired --------------------------------------------------------------------------

// An independent oracle: each Wilson limit found by bisection on the score equation
// (x/n - p)^2 = z^2 p (1 - p) / n instead of the closed form, then Newcombe's combination.
Interval wilson_by_bisection(double x, double n, double z) {
  auto f = [&](double p) { return (x / n - p) * (x / n - p) - z * z * p * (1 - p) / n; };
  auto root = [&](double lo, double hi) {  // f(lo) and f(hi) of opposite signs
    for (int i = 0; i < 200; ++i) {
      const double mid = 0.5 * (lo + hi);
      ((f(lo) > 0) == (f(mid) > 0) ? lo : hi) = mid;
    }
    return 0.5 * (lo + hi);
  };
  const double ph = x / n;
  return {x == 0 ? 0.0 : root(0.0, ph), x == n ? 1.0 : root(ph, 1.0)};
}

Interval newcombe_oracle(double a, double b, double c, double d) {
  const double z = 1.959963984540054, n = a + b + c + d;
  const double p1 = (a + b) / n, p2 = (a + c) / n;
  const Interval w1 = wilson_by_bisection(a + b, n, z), w2 = wilson_by_bisection(a + c, n, z);
  const double den = std::sqrt((a + b) * (c + d) * (a + c) * (b + d));
  double phi = 0;
  if (den > 0) phi = (a * d > b * c ? std::max(a * d - b * c - n / 2, 0.0) : a * d - b * c) / den;
  const double l = p1 - p2 - std::sqrt(std::pow(p1 - w1.lower, 2) -
                                       2 * phi * (p1 - w1.lower) * (w2.upper - p2) +
                                       std::pow(w2.upper - p2, 2));
  const double u = p1 - p2 + std::sqrt(std::pow(w1.upper - p1, 2) -
                                       2 * phi * (w1.upper - p1) * (p2 - w2.lower) +
                                       std::pow(p2 - w2.lower, 2));
  return {l, u};
}

TEST(NewcombePaired, PublishedCavoExample) {
  // Fagerland, Lydersen & Laake (2017) "Statistical Analysis of Contingency Tables", ch. 8,
  // complete response before/after consolidation (Cavo et al. 2012), table [[59, 6], [16, 80]]:
  // Newcombe square-and-add estimate -0.0621, 95% CI -0.1186 to -0.0046.
  const PairedTable t{59, 6, 16, 80};
  const Interval ci = newcombe_paired_interval(t);
  EXPECT_NEAR(t.difference(), -0.0621, 5e-5);
  EXPECT_NEAR(ci.lower, -0.1186, 5e-5);
  EXPECT_NEAR(ci.upper, -0.0046, 5e-5);
}

TEST(NewcombePaired, AgreesWithBisectionOracle) {
  // Bentur et al. 2009 (same book), Altman et al. 2000 Table 6.2, and edge tables (no
  // discordance, all discordant one way, an empty margin).
  const std::vector<PairedTable> tables{{1, 1, 7, 12}, {14, 5, 0, 22}, {10, 15, 5, 20},
                                        {30, 0, 0, 10}, {0, 12, 0, 0}, {5, 0, 3, 0},
                                        {400, 37, 21, 42}};
  for (const PairedTable& t : tables) {
    const Interval got = newcombe_paired_interval(t);
    const Interval want = newcombe_oracle(t.a, t.b, t.c, t.d);
    EXPECT_NEAR(got.lower, std::max(-1.0, want.lower), 1e-9) << t.a << " " << t.b << " " << t.c;
    EXPECT_NEAR(got.upper, std::min(1.0, want.upper), 1e-9) << t.a << " " << t.b << " " << t.c;
    EXPECT_TRUE(got.contains(t.difference()));
  }
}

TEST(NewcombePaired, TableFromScoresAndBadInput) {
  const std::vector<double> cand{1, 1, 0, 0, 1}, base{1, 0, 1, 0, 1};
  const PairedTable t = paired_table(cand, base);
  EXPECT_EQ(t.a, 2u);
  EXPECT_EQ(t.b, 1u);
  EXPECT_EQ(t.c, 1u);
  EXPECT_EQ(t.d, 1u);
  EXPECT_DOUBLE_EQ(t.candidate_accuracy(), 0.6);
  EXPECT_THROW(paired_table(cand, std::vector<double>{1, 0}), Error);
  EXPECT_THROW(paired_table(std::vector<double>{0.5}, std::vector<double>{1}), Error);
  EXPECT_THROW(newcombe_paired_interval(PairedTable{}), Error);
}

// --- McNemar ----------------------------------------------------------------------------------

TEST(McNemarExact, SmallTablesMatchBinomialSums) {
  // b=9, c=2: 2 (C(11,0)+C(11,1)+C(11,2)) / 2^11 = 2 * 67/2048 = 0.0654296875
  EXPECT_NEAR(mcnemar_exact_p(9, 2), 0.0654296875, 1e-12);
  EXPECT_NEAR(mcnemar_exact_p(2, 9), 0.0654296875, 1e-12);
  EXPECT_NEAR(mcnemar_exact_p(0, 5), 2.0 / 32.0, 1e-14);  // 2 * (1/2)^5
  EXPECT_EQ(mcnemar_exact_p(3, 3), 1.0);                  // 2 * 42/64 > 1, clipped
  EXPECT_EQ(mcnemar_exact_p(0, 0), 1.0);
}

TEST(McNemarExact, BinomialCdfMatchesExactIntegerSums) {
  // Oracle: C(n, i) by Pascal's triangle in doubles (exact for n <= 60), summed, over 2^n.
  for (std::uint64_t n : {1u, 7u, 16u, 30u, 60u}) {
    std::vector<double> row{1.0};
    for (std::uint64_t r = 1; r <= n; ++r) {
      std::vector<double> next(r + 1, 1.0);
      for (std::uint64_t i = 1; i < r; ++i) next[i] = row[i - 1] + row[i];
      row.swap(next);
    }
    double cum = 0.0;
    for (std::uint64_t k = 0; k <= n; ++k) {
      cum += row[k];
      EXPECT_NEAR(std::exp(log_binomial_half_cdf(k, n)) / std::ldexp(cum, -static_cast<int>(n)),
                  1.0, 1e-13)
          << "k = " << k << " n = " << n;
    }
  }
  EXPECT_THROW(log_binomial_half_cdf(5, 4), Error);
}

TEST(McNemarExact, MillionDiscordantPairs) {
  // 2 P(X <= 499000), X ~ Bin(1e6, 1/2), computed in Python from the exact integer
  // math.comb(10**6, 499000), scaled by 2**-(10**6) with math.ldexp, times the sum of the ratios
  // C(n,i)/C(n,499000): 0.045608299865382035 (normal approximation: 2 Phi(-999.5/500) = 0.0456).
  EXPECT_NEAR(mcnemar_exact_p(499000, 501000) / 0.045608299865382035, 1.0, 1e-12);
  EXPECT_EQ(mcnemar_exact_p(500000, 500000), 1.0);
  const double tiny = mcnemar_exact_p(0, 1000000);  // 2^-999999 underflows to 0, not NaN
  EXPECT_GE(tiny, 0.0);
  EXPECT_LT(tiny, 1e-300);
}

// --- Mann-Whitney -----------------------------------------------------------------------------

double u_by_pair_counting(const std::vector<double>& x, const std::vector<double>& y) {
  double u = 0;
  for (double a : x)
    for (double b : y) u += a > b ? 1.0 : (a == b ? 0.5 : 0.0);
  return u;
}

TEST(MannWhitney, SeparatedSamplesExact) {
  // scipy.stats.mannwhitneyu([1,2,3,4,5], [6,7,8,9,10]) -> statistic 0.0, pvalue 0.007937
  // (= 2/C(10,5) = 2/252).
  const std::vector<double> x{1, 2, 3, 4, 5}, y{6, 7, 8, 9, 10};
  const MannWhitneyResult r = mann_whitney_u(x, y);
  EXPECT_TRUE(r.exact);
  EXPECT_EQ(r.u, 0.0);
  EXPECT_NEAR(r.p_value, 2.0 / 252.0, 1e-12);
}

TEST(MannWhitney, ScipyDocumentationExample) {
  // scipy.stats.mannwhitneyu docs (males vs females, Conover 1980): U = 17.0, exact p =
  // 0.1111111111111111, method="asymptotic" p = 0.11134688653314041.
  const std::vector<double> males{19, 22, 16, 29, 24}, females{20, 11, 17, 12};
  const MannWhitneyResult exact = mann_whitney_u(males, females);
  EXPECT_EQ(exact.u, u_by_pair_counting(males, females));
  EXPECT_EQ(exact.u, 17.0);
  EXPECT_NEAR(exact.p_value, 0.1111111111111111, 1e-12);
  const MannWhitneyResult approx = mann_whitney_u(males, females, MannWhitneyMethod::asymptotic);
  EXPECT_FALSE(approx.exact);
  EXPECT_NEAR(approx.p_value, 0.11134688653314041, 1e-12);
}

TEST(MannWhitney, TiesUseAverageRanksAndTieCorrection) {
  // x=[1,2,2,3], y=[2,3,4,5]: U by pair counting = 2.5; sum(t^3-t) = 24 + 6; var = 16/12 (9 -
  // 30/56); z = (13.5 - 8 - 0.5)/sqrt(var) -> p = 2 Phi(-z) = 0.1366582477381475 (hand
  // computation of scipy's documented formula).
  const std::vector<double> x{1, 2, 2, 3}, y{2, 3, 4, 5};
  const MannWhitneyResult r = mann_whitney_u(x, y);
  EXPECT_FALSE(r.exact);  // ties force the asymptotic method
  EXPECT_EQ(r.u, u_by_pair_counting(x, y));
  EXPECT_NEAR(r.p_value, 0.1366582477381475, 1e-12);
  EXPECT_THROW(mann_whitney_u(x, y, MannWhitneyMethod::exact), Error);
}

TEST(MannWhitney, ExactAndAsymptoticAgreeAtTwentyEach) {
  std::vector<double> x, y;
  for (int i = 0; i < 20; ++i) {
    x.push_back(i * 1.0 + 0.25 * (i % 3));
    y.push_back(i * 1.0 + 3.6);
  }
  const MannWhitneyResult e = mann_whitney_u(x, y, MannWhitneyMethod::exact);
  const MannWhitneyResult a = mann_whitney_u(x, y, MannWhitneyMethod::asymptotic);
  EXPECT_EQ(e.u, u_by_pair_counting(x, y));
  EXPECT_EQ(e.u, a.u);
  EXPECT_NEAR(e.p_value, a.p_value, 0.01);
  EXPECT_THROW(mann_whitney_u({}, y), Error);
  const std::vector<double> same{4, 4, 4};
  EXPECT_EQ(mann_whitney_u(same, same).p_value, 1.0);
}

// --- percentiles and summaries ----------------------------------------------------------------

TEST(Percentile, MatchesNumpyLinear) {
  // numpy.percentile docs: a = [[10, 7, 4], [3, 2, 1]]; np.percentile(a, 50) -> 3.5
  const std::vector<double> a{10, 7, 4, 3, 2, 1};
  EXPECT_DOUBLE_EQ(percentile(a, 50), 3.5);
  // np.percentile(a, 50, axis=0) -> [6.5, 4.5, 2.5]
  EXPECT_DOUBLE_EQ(percentile(std::vector<double>{10, 3}, 50), 6.5);
  // h = (n-1) q: [1,2,3,4] at 90 -> 3.7; at 0 and 100 the extremes.
  const std::vector<double> b{4, 1, 3, 2};
  EXPECT_NEAR(percentile(b, 90), 3.7, 1e-12);
  EXPECT_EQ(percentile(b, 0), 1.0);
  EXPECT_EQ(percentile(b, 100), 4.0);
  EXPECT_EQ(percentile(std::vector<double>{7}, 99), 7.0);
  EXPECT_THROW(percentile(std::vector<double>{}, 50), Error);
  EXPECT_THROW(percentile(b, 101), Error);
}

TEST(Summary, OneToHundred) {
  // 1..100: mean 50.5, sample sd sqrt(100*101/12) = 29.011491975882016; numpy linear
  // p50 50.5, p90 90.1, p95 95.05, p99 99.01.
  std::vector<double> v;
  for (int i = 100; i >= 1; --i) v.push_back(i);
  const Summary s = summarize(v);
  EXPECT_EQ(s.count, 100u);
  EXPECT_DOUBLE_EQ(s.mean, 50.5);
  EXPECT_NEAR(s.stddev, 29.011491975882016, 1e-12);
  EXPECT_NEAR(s.standard_error, 2.9011491975882016, 1e-12);
  EXPECT_NEAR(s.p50, 50.5, 1e-12);
  EXPECT_NEAR(s.p90, 90.1, 1e-12);
  EXPECT_NEAR(s.p95, 95.05, 1e-12);
  EXPECT_NEAR(s.p99, 99.01, 1e-12);
  EXPECT_EQ(s.min, 1.0);
  EXPECT_EQ(s.max, 100.0);
  EXPECT_EQ(sample_stddev(std::vector<double>{3}), 0.0);
  EXPECT_THROW(summarize(std::vector<double>{1, std::nan("")}), Error);
}

}  // namespace
}  // namespace tenx::eval
