#pragma once
// The whole-model finite-difference comparison both gradient tests use: every parameter nudged by
// ±h (central difference, double precision) against the analytic gradient already in `grads`
// (from model_backward on the same batch). Failures are reported for the first five parameters.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "tenx/train/model.hpp"

namespace tenx::train {

inline void expect_gradient_matches_finite_differences(ExecContext& ctx, const ModelConfig& c,
                                                        const ParamLayout& layout, std::vector<double>& params,
                                                        const std::vector<double>& grads, const Batch& batch,
                                                        Activations<double>& acts, const LossOptions& opts = {}) {
  const ParamViews<double> p = ParamViews<double>::carve(layout, params.data());
  const double h = 1e-5;
  int64_t failures = 0;
  double worst = 0;
  for (const ParamSpec& s : layout.tensors)
    for (int64_t i = 0; i < s.elements(); ++i) {
      double& x = params[s.offset + i];
      const double keep = x;
      x = keep + h;
      const double up = model_forward(ctx, c, p, batch, acts, opts);
      x = keep - h;
      const double down = model_forward(ctx, c, p, batch, acts, opts);
      x = keep;
      const double numeric = (up - down) / (2 * h);
      const double analytic = grads[s.offset + i];
      const double err = std::abs(numeric - analytic) / std::max(1e-2, std::abs(numeric));
      worst = std::max(worst, err);
      if (err > 1e-5 && failures++ < 5)
        ADD_FAILURE() << s.name << "[" << i << "]: numeric " << numeric << " analytic " << analytic;
    }
  EXPECT_EQ(failures, 0);
  EXPECT_LT(worst, 1e-5);
}

}  // namespace tenx::train
