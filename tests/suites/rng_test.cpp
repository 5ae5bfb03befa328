// The deterministic random helpers: the engine is the standard mt19937_64, and the helpers are
// plain arithmetic on its output, so the same seed gives the same draws on every platform.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "tenx/util/rng.hpp"

namespace {

TEST(Rng, EngineIsStandardMt19937_64) {
  // C++ standard [rand.predef]: the 10000th output of a default-seeded mt19937_64
  tenx::Rng rng(5489u);
  std::uint64_t x = 0;
  for (int i = 0; i < 10000; ++i) x = rng.next();
  EXPECT_EQ(x, 9981545732273789042ULL);
}

TEST(Rng, BelowIsInRangeAndRoughlyUniform) {
  tenx::Rng rng(1);
  std::vector<int> counts(7, 0);
  for (int i = 0; i < 70000; ++i) {
    auto v = rng.below(7);
    ASSERT_LT(v, 7u);
    ++counts[v];
  }
  for (int c : counts) EXPECT_NEAR(c, 10000, 500);
}

TEST(Rng, BelowByRejectionMatchesHandComputation) {
  // for n = 10 no draw of a fresh engine is rejected in practice: below = next % 10
  tenx::Rng a(42), b(42);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.below(10), b.next() % 10);
}

TEST(Rng, RangeInclusive) {
  tenx::Rng rng(3);
  bool lo = false, hi = false;
  for (int i = 0; i < 1000; ++i) {
    auto v = rng.range(-2, 2);
    ASSERT_GE(v, -2);
    ASSERT_LE(v, 2);
    lo |= v == -2;
    hi |= v == 2;
  }
  EXPECT_TRUE(lo && hi);
}

TEST(Rng, ShuffleIsAPermutationAndDeterministic) {
  std::vector<int> a(50), b;
  std::iota(a.begin(), a.end(), 0);
  b = a;
  tenx::Rng r1(9), r2(9);
  r1.shuffle(a);
  r2.shuffle(b);
  EXPECT_EQ(a, b);
  std::vector<int> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 50; ++i) EXPECT_EQ(sorted[static_cast<size_t>(i)], i);
  std::vector<int> identity(50);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_NE(a, identity);
}

TEST(Rng, SampleIsDistinct) {
  tenx::Rng rng(5);
  auto s = rng.sample(16, 5);
  ASSERT_EQ(s.size(), 5u);
  std::sort(s.begin(), s.end());
  EXPECT_EQ(std::unique(s.begin(), s.end()), s.end());
  EXPECT_LT(s.back(), 16u);
}

TEST(Rng, DeriveGivesIndependentNamedStreams) {
  auto a = tenx::Rng::derive(7, "task/a"), a2 = tenx::Rng::derive(7, "task/a"), b = tenx::Rng::derive(7, "task/b");
  auto x = a.next();
  EXPECT_EQ(x, a2.next());
  EXPECT_NE(x, b.next());
}

}  // namespace
