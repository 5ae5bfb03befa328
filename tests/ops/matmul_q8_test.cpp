// The integer Q8_0 / Q4_0 matmul: activation quantization bit-identical to the scalar
// reference on every instruction set; every fast path (GEMV for T <= 3, packed GEMM
// tiles above) within float rounding of the final scale multiplies of ref::matmul_q8,
// over odd shapes, misaligned activations and weights, 1-3 threads; and the distance
// to the float semantics (ref::matmul) within the activation quantization error.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "tenx/ops/simd_kernels.hpp"
#include "ops/ops_test_util.hpp"
#include "tenx/ops/kernels.hpp"
#include "tenx/ops/reference.hpp"

namespace tenx {
namespace {

using testing::make_weight;
using testing::Misaligned;

constexpr simd::Isa kIsas[] = {simd::Isa::Generic, simd::Isa::Avx2, simd::Isa::Avx512};

// The integers and scale of block b of a Q8_0 / Q4_0 row, read plainly.
float weight_block(const TensorView& w, int64_t r, int64_t b, int* q) {
  const bool q8 = w.type == DType::Q8_0;
  const uint8_t* blk = w.row(r) + b * (q8 ? 34 : 18);
  for (int j = 0; j < 32; ++j)
    q[j] = q8 ? static_cast<int8_t>(blk[2 + j]) : (j < 16 ? (blk[2 + j] & 0xF) : (blk[2 + j - 16] >> 4)) - 8;
  uint16_t h;
  std::memcpy(&h, blk, 2);
  return f16_to_f32(h);
}

struct Quantized {
  std::vector<int8_t> q;
  std::vector<float> d;
  std::vector<int32_t> sum;
};

Quantized quantize_rows(const float* x, int64_t T, int64_t in) {
  Quantized r{std::vector<int8_t>(static_cast<size_t>(T * in)), std::vector<float>(static_cast<size_t>(T * in / 32)),
              std::vector<int32_t>(static_cast<size_t>(T * in / 32))};
  for (int64_t t = 0; t < T; ++t)
    ref::quantize_activations_q8(x + t * in, in, r.q.data() + t * in, r.d.data() + t * in / 32,
                                 r.sum.data() + t * in / 32);
  return r;
}

// Σ_b |d_w·d_x·Σ q_w·q_x| of output (t, o): what the rounding of the fast kernels scales with.
double abs_terms(const TensorView& w, const Quantized& xq, int64_t t, int64_t o) {
  const int64_t in = w.ne[0], nb = in / 32;
  double s = 0;
  int q[32];
  for (int64_t b = 0; b < nb; ++b) {
    const float dw = weight_block(w, o, b, q);
    int64_t dot = 0;
    for (int j = 0; j < 32; ++j) dot += q[j] * xq.q[static_cast<size_t>(t * in + b * 32 + j)];
    s += std::fabs(static_cast<double>(dw) * xq.d[static_cast<size_t>(t * nb + b)] * static_cast<double>(dot));
  }
  return s;
}

// Fast result y against ref::matmul_q8's yr: the rounding of ~nb float scale
// multiplies and additions (every integer sum is exact).
void expect_int_semantics(const float* y, const std::vector<float>& yr, const float* x, const TensorView& w,
                          int64_t T, const char* what) {
  const int64_t in = w.ne[0], out = w.ne[1], nb = in / 32;
  const Quantized xq = quantize_rows(x, T, in);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t o = 0; o < out; ++o) {
      const double tol = testing::dot_tolerance(nb + 2, abs_terms(w, xq, t, o));
      ASSERT_NEAR(y[t * out + o], yr[static_cast<size_t>(t * out + o)], tol)
          << what << " " << dtype_name(w.type) << " in=" << in << " out=" << out << " T=" << T << " t=" << t
          << " o=" << o;
    }
}

TEST(MatmulQ8, ActivationQuantizationIsBitIdenticalOnEveryIsa) {
  std::mt19937 rng(7);
  const int64_t n = 32 * 9;
  auto v = testing::random_floats(rng, n, 3.0f);
  for (int j = 32; j < 64; ++j) v[static_cast<size_t>(j)] = 0.0f;              // an all-zero block
  for (int j = 64; j < 96; ++j) v[static_cast<size_t>(j)] = 0.5f * (j - 80);   // exact halves: ties
  v[100] = 1e-30f;                                                              // tiny block
  for (int j = 128; j < 160; ++j) v[static_cast<size_t>(j)] = 1e-30f * (j - 140);
  v[170] = NAN;                                                                 // a poisoned block
  v[200] = INFINITY;
  const Misaligned x(v);
  std::vector<int8_t> qr(n);
  std::vector<float> dr(n / 32);
  std::vector<int32_t> sr(n / 32);
  ref::quantize_activations_q8(x.data(), n, qr.data(), dr.data(), sr.data());
  EXPECT_TRUE(std::isnan(dr[5]) && std::isnan(dr[6]));
  EXPECT_EQ(dr[1], 0.0f);
  for (simd::Isa isa : kIsas) {
    if (!simd::isa_supported(isa)) continue;
    const auto& k = simd::kernels_for(isa);
    std::vector<int8_t> q(n);
    std::vector<float> d(n / 32);
    std::vector<int32_t> s(n / 32);
    k.quantize_q8_act(q.data(), d.data(), s.data(), x.data(), n);
    EXPECT_EQ(q, qr) << k.q8_name;
    EXPECT_EQ(s, sr) << k.q8_name;
    for (int64_t b = 0; b < n / 32; ++b) {
      if (std::isnan(dr[b])) {
        EXPECT_TRUE(std::isnan(d[b])) << k.q8_name << " block " << b;
      } else {
        EXPECT_EQ(d[b], dr[b]) << k.q8_name << " block " << b;
      }
    }
  }
}

TEST(MatmulQ8, ReferenceQuantizationFollowsItsDefinition) {
  // amax 127 -> d = 1 exactly, q = x rounded half to even.
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f;
  x[1] = 2.5f;
  x[2] = -3.5f;
  x[3] = 0.49f;
  std::vector<int8_t> q(32);
  float d;
  int32_t s;
  ref::quantize_activations_q8(x.data(), 32, q.data(), &d, &s);
  EXPECT_EQ(d, 1.0f);
  EXPECT_EQ(q[0], 127);
  EXPECT_EQ(q[1], 2);
  EXPECT_EQ(q[2], -4);
  EXPECT_EQ(q[3], 0);
  EXPECT_EQ(s, 127 + 2 - 4);
}

TEST(MatmulQ8, EveryIsaMatchesIntegerReference) {
  std::mt19937 rng(11);
  for (simd::Isa isa : kIsas) {
    if (!simd::isa_supported(isa)) {
      std::printf("note: %s not supported by this CPU, not tested\n", simd::kernels_for(isa).name);
      continue;
    }
    const auto& k = simd::kernels_for(isa);
    for (DType type : {DType::Q8_0, DType::Q4_0}) {
      for (int64_t in : {32, 96, 288}) {
        for (int64_t out : {1, 7, 17, 33, 70}) {
          const auto w = make_weight(rng, type, in, out, /*offset=*/out % 2 == 1 ? 1 : 0);
          for (int64_t T : {1, 2, 3, 4, 5, 9, 13}) {
            const Misaligned x(testing::random_floats(rng, T * in));
            Misaligned y(T * out, NAN);
            std::vector<float> yr(static_cast<size_t>(T * out));
            ExecContext fast(1 + static_cast<int>(T % 3)), ref(1);
            simd::matmul_with(k, fast, y.data(), x.data(), w.view, T);
            ref::matmul_q8(ref, yr.data(), x.data(), w.view, T);
            expect_int_semantics(y.data(), yr, x.data(), w.view, T, k.q8_name);
            EXPECT_EQ(fast.counters, ref.counters);
          }
        }
      }
    }
  }
}

// Distance to the float semantics: |y - x·W| <= Σ |w_j|·|x_j - d·q_j| (the quantization
// error of the activations) plus rounding. Prints the observed size of that distance.
TEST(MatmulQ8, WithinActivationQuantizationErrorOfFloatResult) {
  std::mt19937 rng(13);
  for (DType type : {DType::Q8_0, DType::Q4_0}) {
    const int64_t in = 768, out = 96, T = 6;
    const auto w = make_weight(rng, type, in, out);
    const auto x = testing::random_floats(rng, T * in);
    std::vector<float> y(static_cast<size_t>(T * out)), yf(y.size());
    ExecContext fast(2), ref(1);
    matmul(fast, y.data(), x.data(), w.view, T);
    ref::matmul(ref, yf.data(), x.data(), w.view, T);
    const Quantized xq = quantize_rows(x.data(), T, in);
    std::vector<float> row(static_cast<size_t>(in));
    double worst_rel = 0, worst_of_bound = 0;
    for (int64_t o = 0; o < out; ++o) {
      dequantize_row(type, w.view.row(o), row.data(), in);
      for (int64_t t = 0; t < T; ++t) {
        double qerr = 0, mag = 0;
        for (int64_t j = 0; j < in; ++j) {
          const size_t i = static_cast<size_t>(t * in + j);
          const double xhat = static_cast<double>(xq.d[i / 32]) * xq.q[i];
          qerr += std::fabs(static_cast<double>(row[j])) * std::fabs(x[i] - xhat);
          mag += std::fabs(static_cast<double>(row[j]) * x[i]);
        }
        const double bound = qerr + testing::dot_tolerance(in / 32 + 2, abs_terms(w.view, xq, t, o)) +
                             std::ldexp(std::fabs(yf[t * out + o]), -23);
        const double diff = std::fabs(static_cast<double>(y[t * out + o]) - yf[t * out + o]);
        ASSERT_LE(diff, bound) << dtype_name(type) << " t=" << t << " o=" << o;
        worst_rel = std::max(worst_rel, diff / mag);
        worst_of_bound = std::max(worst_of_bound, diff / bound);
      }
    }
    std::printf("%s, in=768: max |y_int8 - y_float| = %.2e of Σ|w·x| (%.0f%% of the worst-case bound)\n",
                dtype_name(type).data(), worst_rel, 100 * worst_of_bound);
  }
}

TEST(MatmulQ8, NonFiniteActivationsGiveNaNNotGarbage) {
  std::mt19937 rng(17);
  for (int64_t T : {1, 5}) {
    const auto w = make_weight(rng, DType::Q8_0, 64, 20);
    auto x = testing::random_floats(rng, T * 64);
    x[3] = INFINITY;  // row 0, block 0
    std::vector<float> y(static_cast<size_t>(T * 20));
    ExecContext ctx(2);
    matmul(ctx, y.data(), x.data(), w.view, T);
    for (int64_t o = 0; o < 20; ++o) EXPECT_TRUE(std::isnan(y[o])) << o;
    for (int64_t i = 20; i < T * 20; ++i) EXPECT_TRUE(std::isfinite(y[i])) << i;
  }
}

}  // namespace
}  // namespace tenx
