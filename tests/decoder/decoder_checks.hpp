#pragma once
// Checks the decoder tests share: distance to the float64 oracle, counted == analytic.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

#include "tenx/ops/counters.hpp"
#include "tenx/tensor/dtype.hpp"

namespace tenx::test {

// max |a[i] - b[i]| over a's elements (b: the oracle's values).
inline double max_abs_diff(std::span<const float> a, const std::vector<double>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(static_cast<double>(a[i]) - b[i]));
  return m;
}

// Every counter of both phases equal, each failure naming its phase and class or type.
inline void expect_same_counters(const Counters& counted, const Counters& analytic) {
  for (int p = 0; p < kNumPhases; ++p) {
    for (int c = 0; c < kNumOpClasses; ++c)
      EXPECT_EQ(counted.flops[p][c], analytic.flops[p][c])
          << phase_name(Phase(p)) << " " << op_class_name(OpClass(c)) << " FLOPs";
    for (int t = 0; t < kNumDTypes; ++t)
      EXPECT_EQ(counted.weight_bytes[p][t], analytic.weight_bytes[p][t])
          << phase_name(Phase(p)) << " " << dtype_info_by_slot(t).name << " weight bytes";
    EXPECT_EQ(counted.kv_bytes_read[p], analytic.kv_bytes_read[p]) << phase_name(Phase(p));
    EXPECT_EQ(counted.kv_bytes_written[p], analytic.kv_bytes_written[p]) << phase_name(Phase(p));
    EXPECT_EQ(counted.tokens[p], analytic.tokens[p]) << phase_name(Phase(p));
  }
}

}  // namespace tenx::test
