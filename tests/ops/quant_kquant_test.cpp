// The Q4_K and Q6_K quantizers (ggml's quantize_row_q4_K_ref / q6_K_ref) checked against
// properties read off the stored blocks, not against the algorithm: every value is stored as the
// level of its sub-block grid nearest to it (the grid given by the stored f16 and 6-/8-bit
// scales), the grid covers the sub-block's values up to the rounding of those scales, and
// rows built from exactly representable values come back exactly. Byte identity with
// llama.cpp's own quantizer is tests/peer/ggml_quant_bytes_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "tenx/ops/quant.hpp"
#include "tenx/tensor/half.hpp"
#include "tenx/util/error.hpp"
#include "model/test_util.hpp"

namespace tenx {
namespace {

float f16_at(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return f16_to_f32(h);
}

// One sub-block's grid as stored: value of level k = step * (k + first) - offset.
struct Grid {
  float step = 0, offset = 0;
  int first = 0, levels = 0;
  float level(int k) const { return step * static_cast<float>(k + first) - offset; }
};

// The grids of one super-block, decoded from the byte layout of docs/gguf-format.md §2.
std::vector<Grid> grids_of(DType t, const uint8_t* block) {
  std::vector<Grid> g;
  if (t == DType::Q4_K) {  // 8 sub-blocks of 32; 6-bit scale and min packed in 12 bytes
    const float d = f16_at(block), dmin = f16_at(block + 2);
    const uint8_t* s = block + 4;
    for (int j = 0; j < 8; ++j) {
      const int sc = j < 4 ? s[j] & 63 : (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
      const int m = j < 4 ? s[j + 4] & 63 : (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
      g.push_back({d * static_cast<float>(sc), dmin * static_cast<float>(m), 0, 16});
    }
  } else {  // Q6_K: 16 sub-blocks of 16, int8 scales at 192, f16 d at 208; levels -32..31
    const float d = f16_at(block + 208);
    for (int j = 0; j < 16; ++j)
      g.push_back({d * static_cast<float>(static_cast<int8_t>(block[192 + j])), 0.0f, -32, 64});
  }
  return g;
}

// Half the spacing of f16 values near v: the largest f16 rounding error (2^-25 absolute in the
// subnormal range below 2^-14, where small super-block scales lose their relative precision).
float f16_half_ulp(float v) { return std::max(std::fabs(v) * std::ldexp(1.0f, -11), std::ldexp(1.0f, -25)); }

struct RowCheck {
  double worst_in_steps = 0;  // max |y - x| / step over values inside their grid
};

// Quantizes x, dequantizes, and checks the nearest-level and coverage properties (void: ASSERTs).
void check_row(DType t, const std::vector<float>& x, const char* what, RowCheck* out = nullptr) {
  SCOPED_TRACE(std::string(dtype_name(t)) + ", " + what);
  const int64_t n = static_cast<int64_t>(x.size());
  const auto& info = dtype_info(t);
  std::vector<uint8_t> q(static_cast<size_t>(dtype_row_bytes(t, n)));
  quantize_row(t, x.data(), q.data(), n);
  std::vector<float> y(x.size());
  dequantize_row(t, q.data(), y.data(), n);
  RowCheck local;
  RowCheck& r = out ? *out : local;
  const int sub = t == DType::Q4_K ? 32 : 16;
  for (int64_t b = 0; b < n / info.block_elems; ++b) {
    const std::vector<Grid> grids = grids_of(t, q.data() + b * info.block_bytes);
    // The super-block scales' resolution: one unit of the 6-bit (Q4_K) or 8-bit (Q6_K) scale.
    const float d_unit = t == DType::Q4_K ? f16_at(q.data() + b * 144) : std::fabs(f16_at(q.data() + b * 210 + 208));
    const float dmin_unit = t == DType::Q4_K ? f16_at(q.data() + b * 144 + 2) : 0.0f;
    for (size_t j = 0; j < grids.size(); ++j) {
      const Grid& g = grids[j];
      float lo = g.level(0), hi = g.level(g.levels - 1);
      if (lo > hi) std::swap(lo, hi);
      float xmin = INFINITY, xmax = -INFINITY, amax = 0;
      for (int i = 0; i < sub; ++i) {
        const float v = x[b * info.block_elems + j * sub + i];
        xmin = std::min(xmin, v), xmax = std::max(xmax, v), amax = std::max(amax, std::fabs(v));
      }
      const float tol = 2e-6f * (amax + std::fabs(lo) + std::fabs(hi)) + 1e-30f;
      for (int i = 0; i < sub; ++i) {
        const int64_t at = b * info.block_elems + j * static_cast<int64_t>(sub) + i;
        const float v = x[at], err = std::fabs(y[at] - v);
        if (g.step == 0.0f) {
          // A zero sub-block scale (rounded to 0 against the largest one, or d an f16
          // underflow): every value reads back as -offset, which lies in the sub-block's
          // range extended to 0, up to the rounding of the min.
          ASSERT_EQ(y[at], -g.offset) << at;
          const float span = std::max(xmax, 0.0f) - std::min(xmin, 0.0f);
          ASSERT_LE(err, span + 0.5f * dmin_unit + 63 * f16_half_ulp(dmin_unit) + tol) << at;
          continue;
        }
        // Nearest level: no level of the stored grid is closer to x than the value stored.
        for (int k = 0; k < g.levels; ++k) ASSERT_LE(err, std::fabs(g.level(k) - v) + tol) << at << " level " << k;
        if (v >= lo && v <= hi) r.worst_in_steps = std::max(r.worst_in_steps, double(err / std::fabs(g.step)));
      }
      // Coverage: the grid reaches the sub-block's extremes up to one step of the fit, plus
      // the rounding of the stored 6-/8-bit scale (half a unit times the top level) and min,
      // plus the f16 rounding of the super-block scales themselves (times the same factors).
      const float levels_top = t == DType::Q4_K ? 15.0f : 32.0f;
      const float units = std::fabs(g.step) / std::max(d_unit, 1e-38f);
      const float offset_units = g.offset / std::max(dmin_unit, 1e-38f);
      const float slack = std::fabs(g.step) + 0.5f * levels_top * d_unit + 0.5f * dmin_unit +
                          levels_top * units * f16_half_ulp(d_unit) + offset_units * f16_half_ulp(dmin_unit) + tol;
      if (g.step != 0.0f) {
        EXPECT_LE(lo - xmin, slack) << "sub-block " << b << "/" << j;
        EXPECT_LE(xmax - hi, slack) << "sub-block " << b << "/" << j;
      }
    }
  }
}

TEST(QuantKQuant, StoresTheNearestLevelOfAGridCoveringTheValues) {
  std::mt19937 rng(17);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int n = 256 * 8;
  for (DType t : {DType::Q4_K, DType::Q6_K}) {
    for (float scale : {1.0f, 1e-3f, 1e-6f, 3e3f, 2e5f}) {  // weights, tiny, huge (f16 scales still finite)
      std::vector<float> x(n);
      for (auto& v : x) v = scale * normal(rng);
      RowCheck r;
      check_row(t, x, "gaussian", &r);
      EXPECT_LE(r.worst_in_steps, 0.5 + 1e-4) << "scale " << scale;  // within the grid: half a step
    }
    std::vector<float> pos(n), neg(n), mixed(n), outlier(n), sparse(n, 0.0f);
    for (int i = 0; i < n; ++i) {
      pos[i] = 1.0f + std::fabs(normal(rng));
      neg[i] = -0.5f - std::fabs(normal(rng));
      mixed[i] = normal(rng) * std::ldexp(1.0f, (i / 16) % 16 - 8);  // sub-blocks 2^-8 .. 2^7
      outlier[i] = 0.01f * normal(rng) + (i % 256 == 100 ? -40.0f : 0.0f);
      if (i % 5 == 0) sparse[i] = normal(rng);
    }
    check_row(t, pos, "positive");
    check_row(t, neg, "negative");
    check_row(t, mixed, "sub-blocks of very different size");
    check_row(t, outlier, "an outlier per super-block");
    check_row(t, sparse, "sparse");
  }
}

TEST(QuantKQuant, ZeroAndConstantRows) {
  for (DType t : {DType::Q4_K, DType::Q6_K}) {
    SCOPED_TRACE(std::string(dtype_name(t)));
    const int n = 512;
    std::vector<uint8_t> q(static_cast<size_t>(dtype_row_bytes(t, n)), 0xEE);
    std::vector<float> x(n, 0.0f), y(n);
    quantize_row(t, x.data(), q.data(), n);
    for (size_t i = 0; i < q.size(); ++i) ASSERT_EQ(q[i], 0) << i;  // ggml writes an all-zero block
    for (float c : {0.75f, -3.0f, 0.5f, -2e4f, 1e-4f}) {
      std::fill(x.begin(), x.end(), c);
      quantize_row(t, x.data(), q.data(), n);
      dequantize_row(t, q.data(), y.data(), n);
      // One level times a 6-/8-bit scale times an f16 super-block scale (Q4_K: 15·63·d or
      // -63·dmin; Q6_K: -32·-128·d): within the f16 rounding of d, relative 2^-11 or, for
      // tiny rows whose d is an f16 subnormal, 2^-25 absolute times those factors.
      const float k = t == DType::Q4_K ? 15 * 63 : 32 * 128;
      for (int i = 0; i < n; ++i) ASSERT_LE(std::fabs(y[i] - c), k * f16_half_ulp(c / k) * 1.01f) << c << " at " << i;
    }
  }
}

TEST(QuantKQuant, Q4_KExactlyRepresentableRowComesBackExactly) {
  // d = 1/64, dmin = 1/128: sub-block j holds levels 0..15 (each twice) of step sc_j/64 below
  // the offset m_j/128, with sc 63 and m 63 present so that the super-block scales are exact.
  const int sc[8] = {63, 1, 17, 40, 5, 63, 32, 9};
  const int m[8] = {0, 63, 5, 0, 31, 12, 63, 1};
  std::vector<float> x(256);
  for (int j = 0; j < 8; ++j)
    for (int i = 0; i < 32; ++i)
      x[32 * j + i] = static_cast<float>((i * 7) % 16 * sc[j]) / 64.0f - static_cast<float>(m[j]) / 128.0f;
  std::vector<uint8_t> q(144);
  quantize_row(DType::Q4_K, x.data(), q.data(), 256);
  EXPECT_EQ(f16_at(&q[0]), 1.0f / 64);
  EXPECT_EQ(f16_at(&q[2]), 1.0f / 128);
  const std::vector<Grid> g = grids_of(DType::Q4_K, q.data());
  for (int j = 0; j < 8; ++j) {
    EXPECT_EQ(g[j].step, sc[j] / 64.0f) << j;
    EXPECT_EQ(g[j].offset, m[j] / 128.0f) << j;
  }
  std::vector<float> y(256);
  dequantize_row(DType::Q4_K, q.data(), y.data(), 256);
  for (int i = 0; i < 256; ++i) EXPECT_EQ(y[i], x[i]) << i;
  // Levels by hand: value i of sub-block 0 is level (7i mod 16); sub-block 1 is the high
  // nibble of the same bytes (gguf.md: byte l of each 32-byte group holds 2k and 2k+1).
  for (int l = 0; l < 32; ++l) EXPECT_EQ(q[16 + l], ((7 * l) % 16) | (((7 * l) % 16) << 4)) << l;
}

TEST(QuantKQuant, Q6_KExactlyRepresentableRowComesBackExactly) {
  // Sub-block 0 spans levels -32..31 with step 1, so its scale is the largest: d = -1/128,
  // and sub-block j with step s_j/128 stores the scale -s_j.
  std::vector<float> x(256);
  int s[16];
  for (int j = 0; j < 16; ++j) s[j] = j == 0 ? 128 : 3 + 7 * j;
  for (int j = 0; j < 16; ++j)
    for (int i = 0; i < 16; ++i) {
      const int level = i == 0 ? -32 : (i * 13 + j) % 64 - 32;  // -32 present: the fit is exact
      x[16 * j + i] = static_cast<float>(level * s[j]) / 128.0f;
    }
  std::vector<uint8_t> q(210);
  quantize_row(DType::Q6_K, x.data(), q.data(), 256);
  EXPECT_EQ(f16_at(&q[208]), -1.0f / 128);
  for (int j = 0; j < 16; ++j) EXPECT_EQ(static_cast<int8_t>(q[192 + j]), -s[j]) << j;
  std::vector<float> y(256);
  dequantize_row(DType::Q6_K, q.data(), y.data(), 256);
  for (int i = 0; i < 256; ++i) EXPECT_EQ(y[i], x[i]) << i;
  // By hand: x[0] = -32 and d·sc = (-1/128)(-128) = 1, so its level is -32, stored as
  // -32 + 32 = 0: low nibble of ql[0], bits 0-1 of qh[0] (qh starts at byte 128).
  EXPECT_EQ(q[0] & 0xF, 0);
  EXPECT_EQ(q[128] & 3, 0);
}

TEST(QuantKQuant, RefusesWhatItCannotStore) {
  std::vector<float> x(256, 1.0f);
  std::vector<uint8_t> q(256);
  x[7] = std::numeric_limits<float>::infinity();
  test::expect_error([&] { quantize_row(DType::Q4_K, x.data(), q.data(), 256); }, {"q4_k", "non-finite"});
  x[7] = std::numeric_limits<float>::quiet_NaN();
  test::expect_error([&] { quantize_row(DType::Q6_K, x.data(), q.data(), 256); }, {"q6_k", "non-finite"});
  // Finite but beyond f16 once divided into a super-block scale: ggml would write inf.
  std::fill(x.begin(), x.end(), 0.0f);
  x[3] = 3e9f;
  test::expect_error([&] { quantize_row(DType::Q4_K, x.data(), q.data(), 256); }, {"q4_k", "overflows f16"});
  test::expect_error([&] { quantize_row(DType::Q6_K, x.data(), q.data(), 256); }, {"q6_k", "overflows f16"});
  // One value whose square overflows float: ggml's fit turns NaN and it writes garbage levels.
  x[3] = 1e30f;
  test::expect_error([&] { quantize_row(DType::Q4_K, x.data(), q.data(), 256); }, {"q4_k", "values too large"});
  test::expect_error([&] { quantize_row(DType::Q6_K, x.data(), q.data(), 256); }, {"q6_k", "values too large"});
  test::expect_error([&] { quantize_row(DType::Q4_K, x.data(), q.data(), 128); }, {"multiple of the block size 256"});
  EXPECT_TRUE(can_quantize_to(DType::Q4_K));
  EXPECT_TRUE(can_quantize_to(DType::Q6_K));
}

}  // namespace
}  // namespace tenx
