// The integer Q4_K / Q6_K matmul: Q8_K activation quantization bit-identical to the
// scalar reference (ggml's quantize_row_q8_K_ref) on every instruction set; every
// path within float rounding of ref::matmul_qk over several super-blocks, odd row
// counts, T = 1..17, misaligned activations and weights, 1-3 threads; a hand-built
// super-block whose integer answer is known exactly; and the distance to the float
// semantics (ref::matmul) within the activation quantization error.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
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

constexpr simd::Isa kQkIsas[] = {simd::Isa::Generic, simd::Isa::Avx2, simd::Isa::Avx512};

bool sanitizer_build() { return std::getenv("TENX_SANITIZER_BUILD") != nullptr; }

float half_at(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return f16_to_f32(h);
}

// Super-block sb of row r, read plainly from the layouts of docs/gguf-format.md §2:
// the 256 small integers (Q4_K: nibble 0..15, Q6_K: 6-bit value - 32), the scale of
// each 16-element sub-block (Q4_K: d·sc, Q6_K: d·sc) and the min of each (Q4_K:
// dmin·m, Q6_K: 0), so that weight e = scale[e/16]·q[e] - min[e/16].
void decode_super_block(const TensorView& w, int64_t r, int64_t sb, int* q, double* scale, double* min) {
  if (w.type == DType::Q4_K) {
    const uint8_t* blk = w.row(r) + sb * 144;
    const double d = half_at(blk), dmin = half_at(blk + 2);
    const uint8_t* s = blk + 4;
    for (int j = 0; j < 8; ++j) {
      const int sc = j < 4 ? s[j] & 63 : (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
      const int m = j < 4 ? s[j + 4] & 63 : (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
      for (int half = 0; half < 2; ++half) {
        scale[2 * j + half] = d * sc;
        min[2 * j + half] = dmin * m;
      }
      for (int l = 0; l < 32; ++l) {
        const uint8_t byte = blk[16 + 32 * (j / 2) + l];
        q[32 * j + l] = j % 2 == 0 ? byte & 15 : byte >> 4;
      }
    }
    return;
  }
  const uint8_t* blk = w.row(r) + sb * 210;
  const double d = half_at(blk + 208);
  for (int j = 0; j < 16; ++j) {
    scale[j] = d * static_cast<int8_t>(blk[192 + j]);
    min[j] = 0.0;
  }
  for (int e = 0; e < 256; ++e) {
    const int h = e / 128, c = (e % 128) / 32, l = e % 32;
    const uint8_t lo = blk[64 * h + l + 32 * (c % 2)], hi = blk[128 + 32 * h + l];
    q[e] = ((c < 2 ? lo & 15 : lo >> 4) | (((hi >> (2 * c)) & 3) << 4)) - 32;
  }
}

struct QuantizedQ8K {
  std::vector<int8_t> q;
  std::vector<float> d;
  std::vector<int16_t> bsums;
};

QuantizedQ8K quantize_rows_q8k(const float* x, int64_t T, int64_t in) {
  QuantizedQ8K r{std::vector<int8_t>(static_cast<size_t>(T * in)), std::vector<float>(static_cast<size_t>(T * in / 256)),
              std::vector<int16_t>(static_cast<size_t>(T * in / 16))};
  for (int64_t t = 0; t < T; ++t)
    ref::quantize_activations_q8k(x + t * in, in, r.q.data() + t * in, r.d.data() + t * in / 256,
                                  r.bsums.data() + t * in / 16);
  return r;
}

// Σ over sub-blocks j of |d_x·scale_j·Σ q_w·q_x| + |d_x·min_j·Σ q_x|: every integer lane
// and float term of the fast kernels is bounded by it, so their rounding scales with it.
double abs_terms_q8k(const TensorView& w, const QuantizedQ8K& xq, int64_t t, int64_t o) {
  const int64_t in = w.ne[0], nsb = in / 256;
  double s = 0;
  int q[256];
  double scale[16], min[16];
  for (int64_t sb = 0; sb < nsb; ++sb) {
    decode_super_block(w, o, sb, q, scale, min);
    const double dx = xq.d[static_cast<size_t>(t * nsb + sb)];
    for (int j = 0; j < 16; ++j) {
      int64_t dot = 0, sum = 0;
      for (int l = 0; l < 16; ++l) {
        const int xv = xq.q[static_cast<size_t>(t * in + sb * 256 + 16 * j + l)];
        dot += q[16 * j + l] * xv;
        sum += xv;
      }
      s += std::fabs(dx * scale[j] * static_cast<double>(dot)) + std::fabs(dx * min[j] * static_cast<double>(sum));
    }
  }
  return s;
}

void expect_q8k_int_semantics(const float* y, const std::vector<float>& yr, const float* x, const TensorView& w,
                          int64_t T, const char* what) {
  const int64_t in = w.ne[0], out = w.ne[1], nsb = in / 256;
  const QuantizedQ8K xq = quantize_rows_q8k(x, T, in);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t o = 0; o < out; ++o) {
      // Per super-block and lane: two int->float conversions, two scale products,
      // two fused multiply-adds; then a horizontal sum of 8 lanes.
      const double tol = testing::dot_tolerance(6 * nsb + 8, abs_terms_q8k(w, xq, t, o));
      ASSERT_NEAR(y[t * out + o], yr[static_cast<size_t>(t * out + o)], tol)
          << what << " " << dtype_name(w.type) << " in=" << in << " out=" << out << " T=" << T << " t=" << t
          << " o=" << o;
    }
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, 4) == 0; }

TEST(MatmulQK, ActivationQuantizationIsBitIdenticalOnEveryIsa) {
  std::mt19937 rng(7);
  const int64_t n = 256 * 8;
  auto v = testing::random_floats(rng, n, 3.0f);
  auto block = [&](int b, int j) -> float& { return v[static_cast<size_t>(256 * b + j)]; };
  for (int j = 0; j < 256; ++j) block(1, j) = 0.0f;                  // all zero: d = 0
  for (int j = 0; j < 256; ++j) block(2, j) = 0.5f * (j % 64 - 32);  // max -16, iscale 127/16: ties
  block(2, 0) = -127.0f;                                             // iscale = 1: exact halves tie
  for (int j = 0; j < 256; ++j) block(3, j) = 1e-38f * (j % 7 - 3);  // iscale overflows: q = 0, d = ±0
  block(4, 10) = NAN;                                                // poisoned blocks
  block(5, 255) = -INFINITY;
  block(6, 3) = -9.0f;  // first of two elements of largest |x|: max = -9, d > 0
  block(6, 7) = 9.0f;
  for (int j = 0; j < 256; ++j) block(7, j) = 1e-30f * (j - 100);  // tiny but finite iscale
  const Misaligned x(v);
  std::vector<int8_t> qr(n);
  std::vector<float> dr(n / 256);
  std::vector<int16_t> sr(n / 16);
  ref::quantize_activations_q8k(x.data(), n, qr.data(), dr.data(), sr.data());
  EXPECT_TRUE(std::isnan(dr[4]) && std::isnan(dr[5]));
  EXPECT_EQ(dr[1], 0.0f);
  EXPECT_EQ(dr[3], 0.0f);
  EXPECT_EQ(dr[6], 1.0f / (-127.0f / -9.0f));  // max = -9 (the first), so d > 0
  for (simd::Isa isa : kQkIsas) {
    if (!simd::isa_supported(isa)) continue;
    const auto& k = simd::kernels_for(isa);
    std::vector<int8_t> q(n, 99);
    std::vector<float> d(n / 256);
    std::vector<int16_t> s(n / 16, 99);
    k.quantize_q8k_act(q.data(), d.data(), s.data(), x.data(), n);
    EXPECT_EQ(q, qr) << k.name;
    EXPECT_EQ(s, sr) << k.name;
    for (int64_t b = 0; b < n / 256; ++b) {
      if (std::isnan(dr[b])) {
        EXPECT_TRUE(std::isnan(d[b])) << k.name << " block " << b;
      } else {
        EXPECT_TRUE(same_bits(d[b], dr[b])) << k.name << " block " << b << ": " << d[b] << " vs " << dr[b];
      }
    }
  }
}

TEST(MatmulQK, ReferenceQuantizationFollowsGgml) {
  std::vector<float> x(512, 0.0f);
  // Block 0: max = -127 -> iscale = 1, d = 1, q = x rounded half to even.
  x[0] = -127.0f;
  x[1] = 2.5f;
  x[2] = -3.5f;
  x[3] = 0.49f;
  x[4] = 127.0f;
  x[20] = 5.0f;
  // Block 1: max = +254 -> iscale = -0.5, d = -2: signs flip, -2.5 -> -2, -1.5 -> -2.
  x[256] = 254.0f;
  x[257] = 5.0f;
  x[258] = 3.0f;
  std::vector<int8_t> q(512);
  float d[2];
  int16_t bs[32];
  ref::quantize_activations_q8k(x.data(), 512, q.data(), d, bs);
  EXPECT_EQ(d[0], 1.0f);
  EXPECT_EQ(q[0], -127);
  EXPECT_EQ(q[1], 2);
  EXPECT_EQ(q[2], -4);
  EXPECT_EQ(q[3], 0);
  EXPECT_EQ(q[4], 127);
  EXPECT_EQ(bs[0], -127 + 2 - 4 + 127);
  EXPECT_EQ(bs[1], 5);
  EXPECT_EQ(d[1], -2.0f);
  EXPECT_EQ(q[256], -127);
  EXPECT_EQ(q[257], -2);
  EXPECT_EQ(q[258], -2);
  EXPECT_EQ(bs[16], -131);
}

// One super-block per type built by hand, activations that quantize exactly (max -127
// -> d_x = 1, q = x): the answer is a known integer combination, exact in float.
TEST(MatmulQK, HandBuiltSuperBlockGivesTheExactAnswer) {
  std::vector<float> x(256);
  for (int e = 0; e < 256; ++e) x[static_cast<size_t>(e)] = static_cast<float>((e * 37) % 255 - 127);
  x[0] = -127.0f;
  for (DType type : {DType::Q4_K, DType::Q6_K}) {
    std::vector<uint8_t> blk(type == DType::Q4_K ? 144 : 210, 0);
    double expected = 0;
    if (type == DType::Q4_K) {
      const uint16_t d = f32_to_f16(1.0f), dmin = f32_to_f16(0.5f);
      std::memcpy(blk.data(), &d, 2);
      std::memcpy(blk.data() + 2, &dmin, 2);
      for (int j = 0; j < 4; ++j) {  // sc_j = j + 1, m_j = j (all < 16: no high bits)
        blk[4 + j] = static_cast<uint8_t>(j + 1);
        blk[8 + j] = static_cast<uint8_t>(j);
        blk[12 + j] = static_cast<uint8_t>((j + 5) | ((j + 4) << 4));
      }
      for (int e = 0; e < 256; ++e) {
        const int j = e / 32, l = e % 32, q = (e * 5 + 3) % 16;
        blk[16 + 32 * (j / 2) + l] |= static_cast<uint8_t>(j % 2 == 0 ? q : q << 4);
        expected += (1.0 * (j + 1) * q - 0.5 * j) * x[static_cast<size_t>(e)];
      }
    } else {
      const uint16_t d = f32_to_f16(1.0f);
      std::memcpy(blk.data() + 208, &d, 2);
      for (int j = 0; j < 16; ++j) blk[192 + j] = static_cast<uint8_t>(static_cast<int8_t>(j - 8));
      for (int e = 0; e < 256; ++e) {
        const int h = e / 128, c = (e % 128) / 32, l = e % 32, q = (e * 11 + 5) % 64;
        blk[64 * h + l + 32 * (c % 2)] |= static_cast<uint8_t>(c < 2 ? q & 15 : (q & 15) << 4);
        blk[128 + 32 * h + l] |= static_cast<uint8_t>((q >> 4) << (2 * c));
        expected += (e / 16 - 8) * (q - 32) * static_cast<double>(x[static_cast<size_t>(e)]);
      }
    }
    TensorView w;
    w.name = "hand.weight";
    w.type = type;
    w.n_dims = 2;
    w.ne = {256, 1, 1, 1};
    w.data = blk.data();
    w.nbytes = blk.size();
    float yr = NAN, yf = NAN;
    ExecContext ctx(1);
    ref::matmul_qk(ctx, &yr, x.data(), w, 1);
    ref::matmul(ctx, &yf, x.data(), w, 1);
    EXPECT_EQ(yr, static_cast<float>(expected)) << dtype_name(type);
    EXPECT_EQ(yf, static_cast<float>(expected)) << dtype_name(type);
    for (simd::Isa isa : kQkIsas) {
      if (!simd::isa_supported(isa)) continue;
      float y = NAN;
      simd::matmul_with(simd::kernels_for(isa), ctx, &y, x.data(), w, 1);
      EXPECT_EQ(y, static_cast<float>(expected)) << dtype_name(type) << " " << simd::kernels_for(isa).name;
    }
  }
}

TEST(MatmulQK, EveryIsaMatchesIntegerReference) {
  std::mt19937 rng(11);
  const bool small = sanitizer_build();
  for (simd::Isa isa : kQkIsas) {
    if (!simd::isa_supported(isa)) {
      std::printf("note: %s not supported by this CPU, not tested\n", simd::kernels_for(isa).name);
      continue;
    }
    const auto& k = simd::kernels_for(isa);
    for (DType type : {DType::Q4_K, DType::Q6_K}) {
      for (int64_t in : {256, 512, 768}) {
        for (int64_t out : {1, 7, 17, 70}) {
          if (small && in == 512) continue;
          const auto w = make_weight(rng, type, in, out, /*offset=*/out % 2 == 1 ? 1 : 0);
          for (int64_t T : {1, 2, 3, 5, 12, 17}) {
            if (small && T == 17 && out == 70) continue;
            const Misaligned x(testing::random_floats(rng, T * in));
            Misaligned y(T * out, NAN);
            std::vector<float> yr(static_cast<size_t>(T * out));
            ExecContext fast(1 + static_cast<int>(T % 3)), ref(1);
            simd::matmul_with(k, fast, y.data(), x.data(), w.view, T);
            ref::matmul_qk(ref, yr.data(), x.data(), w.view, T);
            expect_q8k_int_semantics(y.data(), yr, x.data(), w.view, T, k.name);
            EXPECT_EQ(fast.counters, ref.counters);
          }
        }
      }
    }
  }
}

// Distance to the float semantics: |y - x·W| <= Σ |w_j|·|x_j - d·q_j| (the quantization
// error of the activations) plus rounding. Prints the observed size of that distance.
TEST(MatmulQK, WithinActivationQuantizationErrorOfFloatResult) {
  std::mt19937 rng(13);
  for (DType type : {DType::Q4_K, DType::Q6_K}) {
    const int64_t in = 768, out = 96, T = 6;
    const auto w = make_weight(rng, type, in, out);
    const auto x = testing::random_floats(rng, T * in);
    std::vector<float> y(static_cast<size_t>(T * out)), yf(y.size());
    ExecContext fast(2), ref(1);
    matmul(fast, y.data(), x.data(), w.view, T);
    ref::matmul(ref, yf.data(), x.data(), w.view, T);
    const QuantizedQ8K xq = quantize_rows_q8k(x.data(), T, in);
    std::vector<float> row(static_cast<size_t>(in));
    double worst_rel = 0, worst_of_bound = 0;
    for (int64_t o = 0; o < out; ++o) {
      dequantize_row(type, w.view.row(o), row.data(), in);
      for (int64_t t = 0; t < T; ++t) {
        double qerr = 0, mag = 0;
        for (int64_t j = 0; j < in; ++j) {
          const size_t i = static_cast<size_t>(t * in + j);
          const double xhat = static_cast<double>(xq.d[i / 256]) * xq.q[i];
          qerr += std::fabs(static_cast<double>(row[j])) * std::fabs(x[i] - xhat);
          mag += std::fabs(static_cast<double>(row[j]) * x[i]);
        }
        // The float dequantization of Q4_K rounds d·sc·q - dmin·m once or twice per weight.
        const double bound = qerr + testing::dot_tolerance(6 * in / 256 + 8, abs_terms_q8k(w.view, xq, t, o)) +
                             std::ldexp(mag, -22);
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

TEST(MatmulQK, NonFiniteActivationsGiveNaNNotGarbage) {
  std::mt19937 rng(17);
  for (DType type : {DType::Q4_K, DType::Q6_K})
    for (int64_t T : {1, 5}) {
      const auto w = make_weight(rng, type, 512, 20);
      auto x = testing::random_floats(rng, T * 512);
      x[300] = INFINITY;  // row 0, super-block 1
      std::vector<float> y(static_cast<size_t>(T * 20));
      ExecContext ctx(2);
      matmul(ctx, y.data(), x.data(), w.view, T);
      for (int64_t o = 0; o < 20; ++o) EXPECT_TRUE(std::isnan(y[o])) << o;
      for (int64_t i = 20; i < T * 20; ++i) EXPECT_TRUE(std::isfinite(y[i])) << i;
    }
}

}  // namespace
}  // namespace tenx
