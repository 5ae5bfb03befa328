// Pareto front and iso-accuracy ratio on hand-made points whose answers are worked out below.
#include "tenx/eval/stats/pareto.hpp"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "tenx/util/error.hpp"

namespace tenx::eval {
namespace {

// A, B, C on the front; D dominated by B (more FLOPs, less accuracy); E dominated by C (same
// FLOPs, less accuracy); F an exact duplicate of A (the first is kept).
const std::vector<ComputePoint> kFamily{
    {"C", 1e11, 0.80}, {"A", 1e9, 0.50}, {"D", 5e10, 0.60},
    {"B", 1e10, 0.70}, {"E", 1e11, 0.75}, {"F", 1e9, 0.50},
};

TEST(Pareto, FrontOrderedByFlops) {
  const std::vector<std::size_t> front = pareto_front(kFamily);
  ASSERT_EQ(front.size(), 3u);
  EXPECT_EQ(kFamily[front[0]].label, "A");
  EXPECT_EQ(kFamily[front[1]].label, "B");
  EXPECT_EQ(kFamily[front[2]].label, "C");
}

TEST(Pareto, IsoAccuracyRatio) {
  // C is on the front: it needs its own FLOPs, ratio 1.
  EXPECT_DOUBLE_EQ(iso_accuracy_ratio(kFamily, 0), 1.0);
  // E (1e11, 0.75): halfway between B (1e10, 0.70) and C (1e11, 0.80) in accuracy, so halfway
  // in log FLOPs: sqrt(1e10 * 1e11) = 3.1623e10; ratio 1e11 / 3.1623e10 = sqrt(10).
  EXPECT_NEAR(iso_accuracy_ratio(kFamily, 4), std::sqrt(10.0), 1e-12);
  // D (5e10, 0.60): halfway between A (1e9, 0.5) and B (1e10, 0.7): sqrt(1e19) = 3.1623e9;
  // ratio 5e10 / 3.1623e9 = 5 sqrt(10) = 15.811.
  EXPECT_NEAR(iso_accuracy_ratio(kFamily, 2), 5.0 * std::sqrt(10.0), 1e-11);
  // Below the cheapest model's accuracy there is no extrapolation: A's FLOPs.
  EXPECT_DOUBLE_EQ(flops_to_reach(kFamily, 0.3), 1e9);
  EXPECT_THROW(flops_to_reach(kFamily, 0.9), Error);
  EXPECT_THROW(iso_accuracy_ratio(kFamily, 6), Error);
}

TEST(Pareto, RejectsBadPoints) {
  EXPECT_THROW(pareto_front(std::vector<ComputePoint>{}), Error);
  EXPECT_THROW(pareto_front(std::vector<ComputePoint>{{"x", 0.0, 0.5}}), Error);
  EXPECT_THROW(pareto_front(std::vector<ComputePoint>{{"x", 1.0, NAN}}), Error);
}

}  // namespace
}  // namespace tenx::eval
