// The fast float matmuls (forward and both backward products, on the core's per-CPU GEMM)
// against the plain-loop references, on odd sizes that exercise every partial register tile
// and output block; and the same bits for 1 and 2 threads. The references themselves are
// checked by finite differences in ops_grad_test.cpp (the double versions run them).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "tenx/train/ops.hpp"
#include "tenx/util/rng.hpp"

namespace tenx::train {
namespace {

std::vector<float> uniform(size_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(2.0 * rng.unit() - 1.0);
  return v;
}

struct Sizes {
  int64_t T, C, OC;
};

// Both sides sum the same K products in float in different orders; the difference is
// bounded by a few float roundings of Σ|products| (K <= 300 here).
void expect_close(const char* what, const std::vector<float>& fast, const std::vector<float>& ref,
                  const std::vector<double>& magnitude, const Sizes& s) {
  ASSERT_EQ(fast.size(), ref.size());
  for (size_t i = 0; i < fast.size(); ++i) {
    const double tol = 1e-6 * (magnitude[i] + 1.0) * 4;
    ASSERT_LE(std::abs(static_cast<double>(fast[i]) - ref[i]), tol)
        << what << "[" << i << "] T " << s.T << " C " << s.C << " OC " << s.OC;
  }
}

class TrainMatmul : public ::testing::TestWithParam<Sizes> {};

TEST_P(TrainMatmul, FastEqualsReferenceInEveryProduct) {
  const Sizes s = GetParam();
  const auto x = uniform(static_cast<size_t>(s.T * s.C), 1);
  const auto w = uniform(static_cast<size_t>(s.OC * s.C), 2);
  const auto dout = uniform(static_cast<size_t>(s.T * s.OC), 3);
  // Gradients start non-zero: the backward accumulates.
  const auto dx0 = uniform(static_cast<size_t>(s.T * s.C), 4);
  const auto dw0 = uniform(static_cast<size_t>(s.OC * s.C), 5);
  ExecContext ctx(2);

  std::vector<float> out(static_cast<size_t>(s.T * s.OC)), out_ref(out.size());
  matmul_forward(ctx, out.data(), x.data(), w.data(), s.T, s.C, s.OC);
  matmul_forward_reference(ctx, out_ref.data(), x.data(), w.data(), s.T, s.C, s.OC);
  std::vector<double> mag(out.size());
  for (int64_t t = 0; t < s.T; ++t)
    for (int64_t o = 0; o < s.OC; ++o)
      for (int64_t c = 0; c < s.C; ++c) mag[t * s.OC + o] += std::abs(x[t * s.C + c] * w[o * s.C + c]);
  expect_close("out", out, out_ref, mag, s);

  std::vector<float> dx = dx0, dw = dw0, dx_ref = dx0, dw_ref = dw0;
  matmul_backward(ctx, dx.data(), dw.data(), dout.data(), x.data(), w.data(), s.T, s.C, s.OC);
  matmul_backward_reference(ctx, dx_ref.data(), dw_ref.data(), dout.data(), x.data(), w.data(), s.T, s.C, s.OC);
  std::vector<double> mag_dx(dx.size()), mag_dw(dw.size());
  for (int64_t t = 0; t < s.T; ++t)
    for (int64_t o = 0; o < s.OC; ++o)
      for (int64_t c = 0; c < s.C; ++c) {
        mag_dx[t * s.C + c] += std::abs(dout[t * s.OC + o] * w[o * s.C + c]);
        mag_dw[o * s.C + c] += std::abs(dout[t * s.OC + o] * x[t * s.C + c]);
      }
  expect_close("dx", dx, dx_ref, mag_dx, s);
  expect_close("dw", dw, dw_ref, mag_dw, s);

  // dx null: only the weight gradient, the same values.
  std::vector<float> dw_only = dw0;
  matmul_backward<float>(ctx, nullptr, dw_only.data(), dout.data(), x.data(), w.data(), s.T, s.C, s.OC);
  EXPECT_EQ(0, std::memcmp(dw_only.data(), dw.data(), dw.size() * sizeof(float)));
}

TEST_P(TrainMatmul, SameBitsForOneAndTwoThreads) {
  const Sizes s = GetParam();
  const auto x = uniform(static_cast<size_t>(s.T * s.C), 6);
  const auto w = uniform(static_cast<size_t>(s.OC * s.C), 7);
  const auto dout = uniform(static_cast<size_t>(s.T * s.OC), 8);
  std::vector<float> out[2], dx[2], dw[2];
  for (int threads : {1, 2}) {
    ExecContext ctx(threads);
    auto& o = out[threads - 1];
    o.resize(static_cast<size_t>(s.T * s.OC));
    dx[threads - 1].assign(static_cast<size_t>(s.T * s.C), 0.5f);
    dw[threads - 1].assign(static_cast<size_t>(s.OC * s.C), -0.25f);
    matmul_forward(ctx, o.data(), x.data(), w.data(), s.T, s.C, s.OC);
    matmul_backward(ctx, dx[threads - 1].data(), dw[threads - 1].data(), dout.data(), x.data(), w.data(), s.T, s.C,
                    s.OC);
  }
  EXPECT_EQ(0, std::memcmp(out[0].data(), out[1].data(), out[0].size() * sizeof(float)));
  EXPECT_EQ(0, std::memcmp(dx[0].data(), dx[1].data(), dx[0].size() * sizeof(float)));
  EXPECT_EQ(0, std::memcmp(dw[0].data(), dw[1].data(), dw[0].size() * sizeof(float)));
}

// Odd sizes: below one vector, between tiles, across several 64-wide output blocks, K with a
// scalar tail; the last is the 2M model's attention output shape with few tokens.
INSTANTIATE_TEST_SUITE_P(OddSizes, TrainMatmul,
                         ::testing::Values(Sizes{1, 1, 1}, Sizes{3, 5, 7}, Sizes{13, 17, 11}, Sizes{37, 53, 29},
                                           Sizes{67, 129, 70}, Sizes{130, 31, 131}, Sizes{5, 300, 3},
                                           Sizes{200, 192, 192}));

}  // namespace
}  // namespace tenx::train
