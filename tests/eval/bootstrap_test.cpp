// Bootstrap: determinism under a seed, agreement with normal theory on large samples, and the
// pairing and stratification properties that follow from how resamples are drawn.
#include "tenx/eval/stats/bootstrap.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tenx/util/error.hpp"
#include "tenx/util/rng.hpp"

namespace tenx::eval {
namespace {

std::vector<double> bernoulli(std::size_t n, std::uint64_t num, std::uint64_t den,
                              std::uint64_t seed) {
  Rng rng(seed);
  std::vector<double> v(n);
  for (double& x : v) x = rng.chance(num, den) ? 1.0 : 0.0;
  return v;
}

TEST(Bootstrap, SameSeedSameIntervalDifferentSeedDifferent) {
  const std::vector<double> v = bernoulli(500, 7, 10, 1);
  BootstrapOptions o;
  const BootstrapResult r1 = bootstrap_mean(v, o), r2 = bootstrap_mean(v, o);
  EXPECT_EQ(r1.interval.lower, r2.interval.lower);  // bit for bit
  EXPECT_EQ(r1.interval.upper, r2.interval.upper);
  EXPECT_EQ(r1.resamples, 10000u);
  o.seed += 1;
  const BootstrapResult r3 = bootstrap_mean(v, o);
  EXPECT_TRUE(r3.interval.lower != r1.interval.lower || r3.interval.upper != r1.interval.upper);
  // The generic path draws the same indices, so it gives the same interval as the mean path.
  const BootstrapResult g = bootstrap(v, [](std::span<const double> s) { return mean(s); });
  EXPECT_NEAR(g.interval.lower, r1.interval.lower, 1e-12);
  EXPECT_NEAR(g.interval.upper, r1.interval.upper, 1e-12);
}

TEST(Bootstrap, AgreesWithNormalTheoryOnALargeSample) {
  // For n = 10000 Bernoulli items the percentile interval of the mean approaches
  // p +- 1.96 sqrt(p (1 - p) / n) (half-width ~ 0.009); agree to 0.001.
  const std::vector<double> v = bernoulli(10000, 7, 10, 2);
  const BootstrapResult r = bootstrap_mean(v);
  const double p = mean(v), se = std::sqrt(p * (1 - p) / static_cast<double>(v.size()));
  EXPECT_NEAR(r.interval.lower, p - 1.959964 * se, 1e-3);
  EXPECT_NEAR(r.interval.upper, p + 1.959964 * se, 1e-3);
  EXPECT_NEAR(r.standard_error, se, 0.1 * se);
  EXPECT_EQ(r.estimate, p);
}

TEST(Bootstrap, MedianStatistic) {
  const std::vector<double> v{5, 1, 9, 3, 7, 2, 8};
  const BootstrapResult r = bootstrap(
      v, [](std::span<const double> s) { return percentile(s, 50); }, {.resamples = 2000});
  EXPECT_EQ(r.estimate, 5.0);
  EXPECT_GE(r.interval.lower, 1.0);
  EXPECT_LE(r.interval.upper, 9.0);
  EXPECT_TRUE(r.interval.contains(5.0));
}

TEST(PairedBootstrap, PairingRemovesSharedVariance) {
  // Paired items: the baseline is right where the candidate is, plus 2% more items. The paired
  // normal-theory SE of the difference is sqrt((b + c) - (b - c)^2 / n) / n, far smaller than
  // the unpaired one; the paired bootstrap must follow the paired value.
  const std::size_t n = 10000;
  std::vector<double> cand = bernoulli(n, 6, 10, 3), base = cand;
  Rng rng(4);
  double b = 0, c = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (cand[i] == 0.0 && rng.chance(1, 20)) base[i] = 1.0;
    if (cand[i] == 1.0 && rng.chance(1, 100)) base[i] = 0.0;
    b += cand[i] > base[i];
    c += cand[i] < base[i];
  }
  const double nn = static_cast<double>(n);
  const double d = (b - c) / nn, se = std::sqrt((b + c) - (b - c) * (b - c) / nn) / nn;
  const BootstrapResult r = paired_bootstrap_difference(cand, base);
  EXPECT_NEAR(r.estimate, d, 1e-12);
  EXPECT_NEAR(r.interval.lower, d - 1.959964 * se, 0.3 * se);
  EXPECT_NEAR(r.interval.upper, d + 1.959964 * se, 0.3 * se);
}

TEST(PairedBootstrap, StratificationKeepsStratumSizes) {
  // Task A: candidate always right, baseline always wrong (difference +1 per item); task B: both
  // always agree. Stratified resampling keeps 30 A items and 70 B items in every resample, so
  // the difference is exactly 0.3 every time; unstratified resampling varies it.
  std::vector<double> cand, base;
  std::vector<std::string> task;
  for (int i = 0; i < 100; ++i) {
    const bool a = i % 10 < 3;
    cand.push_back(1.0);
    base.push_back(a ? 0.0 : 1.0);
    task.push_back(a ? "A" : "B");
  }
  const BootstrapResult strat = paired_bootstrap_difference(cand, base, {}, task);
  EXPECT_NEAR(strat.interval.lower, 0.3, 1e-12);
  EXPECT_NEAR(strat.interval.upper, 0.3, 1e-12);
  const BootstrapResult plain = paired_bootstrap_difference(cand, base);
  EXPECT_LT(plain.interval.lower, 0.25);
  EXPECT_GT(plain.interval.upper, 0.35);
}

TEST(PairedBootstrap, RejectsBadInput) {
  const std::vector<double> x{1, 0}, y{1};
  EXPECT_THROW(paired_bootstrap_difference(x, y), Error);
  EXPECT_THROW(paired_bootstrap_difference(x, x, {}, std::vector<std::string>{"a"}), Error);
  EXPECT_THROW(bootstrap_mean(std::vector<double>{}), Error);
  EXPECT_THROW(bootstrap_mean(x, {.resamples = 0}), Error);
  EXPECT_THROW(bootstrap_mean(x, {.confidence = 1.5}), Error);
}

}  // namespace
}  // namespace tenx::eval
