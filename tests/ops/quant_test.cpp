// Quantization blocks against hand-built blocks whose values were worked out
// by hand from the layouts in docs/gguf-format.md §2 (not from the code).
#include "tenx/ops/quant.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "tenx/tensor/half.hpp"
#include "tenx/util/error.hpp"

namespace tenx {
namespace {

void put_u16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }

std::vector<float> dequant(DType t, const std::vector<uint8_t>& bytes, int64_t n) {
  std::vector<float> y(static_cast<size_t>(n), -12345.0f);
  dequantize_row(t, bytes.data(), y.data(), n);
  return y;
}

TEST(Quant, F16DecodeSpecialValues) {
  const std::vector<std::pair<uint16_t, float>> cases = {
      {0x3C00, 1.0f},          {0xC000, -2.0f},
      {0x7BFF, 65504.0f},      {0x0001, std::ldexp(1.0f, -24)},  // smallest subnormal
      {0x03FF, 1023 * std::ldexp(1.0f, -24)},                    // largest subnormal
      {0x0400, std::ldexp(1.0f, -14)},                           // smallest normal
      {0x3555, 0.333251953125f},
      {0x7C00, std::numeric_limits<float>::infinity()},
      {0xFC00, -std::numeric_limits<float>::infinity()},
  };
  std::vector<uint8_t> bytes(2 * cases.size());
  for (size_t i = 0; i < cases.size(); ++i) put_u16(&bytes[2 * i], cases[i].first);
  const auto y = dequant(DType::F16, bytes, static_cast<int64_t>(cases.size()));
  for (size_t i = 0; i < cases.size(); ++i) EXPECT_EQ(y[i], cases[i].second) << i;

  std::vector<uint8_t> special(4);
  put_u16(&special[0], 0x8000);  // -0
  put_u16(&special[2], 0x7E00);  // NaN
  const auto z = dequant(DType::F16, special, 2);
  EXPECT_EQ(z[0], 0.0f);
  EXPECT_TRUE(std::signbit(z[0]));
  EXPECT_TRUE(std::isnan(z[1]));
}

TEST(Quant, F16EncodeRoundsToNearestEven) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<std::pair<float, uint16_t>> cases = {
      {1.0f, 0x3C00},
      {65504.0f, 0x7BFF},
      {65520.0f, 0x7C00},  // halfway between 65504 and 65536: even is the overflow -> inf
      {65519.0f, 0x7BFF},
      {1.0f + std::ldexp(1.0f, -11), 0x3C00},      // tie, keep even mantissa 0
      {1.0f + 3 * std::ldexp(1.0f, -11), 0x3C02},  // tie, round up to even mantissa 2
      {std::ldexp(1.0f, -24), 0x0001},
      {std::ldexp(1.0f, -25), 0x0000},      // tie between 0 and the smallest subnormal
      {3 * std::ldexp(1.0f, -25), 0x0002},  // tie between subnormals 1 and 2
      {1.5f * std::ldexp(1.0f, -25), 0x0001},
      {-2.0f, 0xC000},
      {inf, 0x7C00},
      {-inf, 0xFC00},
      {1e-10f, 0x0000},
      {std::numeric_limits<float>::quiet_NaN(), 0x7E00},
  };
  for (const auto& [x, bits] : cases) {
    uint8_t out[2];
    quantize_row(DType::F16, &x, out, 1);
    uint16_t got;
    std::memcpy(&got, out, 2);
    EXPECT_EQ(got, bits) << "x = " << x;
  }
}

TEST(Quant, BF16EncodeDecode) {
  const std::vector<std::pair<uint32_t, uint16_t>> cases = {
      {0x3F800000u, 0x3F80},  // 1.0
      {0x3F808000u, 0x3F80},  // tie, keep even
      {0x3F818000u, 0x3F82},  // tie, round up to even
      {0x3F808001u, 0x3F81},  // above the tie
      {0x7F800000u, 0x7F80},  // inf
      {0x7F800001u, 0x7FC0},  // signalling NaN becomes quiet: (u >> 16) | 64
      {0xFFC00000u, 0xFFC0},  // quiet negative NaN
      {0x00000001u, 0x0000},  // subnormal rounds to zero
      {0x00018000u, 0x0002},  // subnormal tie rounds to even
      {0x7F7FFFFFu, 0x7F80},  // max float rounds to inf
  };
  for (const auto& [in, bits] : cases) {
    const float x = bits_to_f32(in);
    uint8_t out[2];
    quantize_row(DType::BF16, &x, out, 1);
    uint16_t got;
    std::memcpy(&got, out, 2);
    EXPECT_EQ(got, bits) << std::hex << in;
  }
  std::vector<uint8_t> bytes(4);
  put_u16(&bytes[0], 0x4049);  // 3.140625
  put_u16(&bytes[2], 0xBF80);  // -1
  const auto y = dequant(DType::BF16, bytes, 2);
  EXPECT_EQ(y[0], 3.140625f);
  EXPECT_EQ(y[1], -1.0f);
}

TEST(Quant, Q8_0HandBuiltBlock) {
  std::vector<uint8_t> b(34, 0);
  put_u16(&b[0], 0x3800);  // d = 0.5
  const int8_t qs[5] = {-128, -1, 0, 1, 127};
  std::memcpy(&b[2], qs, 5);
  const auto y = dequant(DType::Q8_0, b, 32);
  EXPECT_EQ(y[0], -64.0f);
  EXPECT_EQ(y[1], -0.5f);
  EXPECT_EQ(y[2], 0.0f);
  EXPECT_EQ(y[3], 0.5f);
  EXPECT_EQ(y[4], 63.5f);
  for (int j = 5; j < 32; ++j) EXPECT_EQ(y[j], 0.0f);
}

TEST(Quant, Q4_0HandBuiltBlock) {
  std::vector<uint8_t> b(18, 0x88);  // all nibbles 8 -> 0
  put_u16(&b[0], 0x4000);            // d = 2
  b[2] = 0x1F;                       // y[0] = (15-8)*2, y[16] = (1-8)*2
  b[3] = 0x80;                       // y[1] = (0-8)*2, y[17] = 0
  const auto y = dequant(DType::Q4_0, b, 32);
  EXPECT_EQ(y[0], 14.0f);
  EXPECT_EQ(y[16], -14.0f);
  EXPECT_EQ(y[1], -16.0f);
  EXPECT_EQ(y[17], 0.0f);
  for (int j = 2; j < 16; ++j) EXPECT_EQ(y[j], 0.0f);
}

TEST(Quant, Q4_KScaleUnpacking) {
  std::vector<uint8_t> b(144, 0);
  put_u16(&b[0], 0x3C00);  // d = 1
  put_u16(&b[2], 0x3800);  // dmin = 0.5
  uint8_t* s = &b[4];
  s[0] = 0xC5;  // sc0 = 5, top bits 3 -> high bits of sc4
  s[4] = 0x42;  // m0 = 2, top bits 1 -> high bits of m4
  s[8] = 0x37;  // sc4 = 7 | 3<<4 = 55, m4 = 3 | 1<<4 = 19
  s[1] = 0x01;  // sc1 = 1, m1 = 0
  s[9] = 0x21;  // sc5 = 1, m5 = 2
  s[3] = 0x80;  // sc3 = 0, high bits of sc7 = 2
  s[7] = 0xC0;  // m3 = 0, high bits of m7 = 3 -> m7 = 48, sc7 = 32
  uint8_t* qs = &b[16];
  qs[0] = 0xA3;   // sub-block 0: 3, sub-block 1: 10
  qs[64] = 0x4F;  // sub-block 4: 15, sub-block 5: 4
  qs[96] = 0x20;  // sub-block 6: 0, sub-block 7: 2
  const auto y = dequant(DType::Q4_K, b, 256);
  EXPECT_EQ(y[0], 1 * 5 * 3 - 0.5f * 2);  // 14
  EXPECT_EQ(y[1], -1.0f);
  EXPECT_EQ(y[32], 10.0f);
  EXPECT_EQ(y[33], 0.0f);
  for (int j = 64; j < 128; ++j) EXPECT_EQ(y[j], 0.0f) << j;
  EXPECT_EQ(y[128], 55 * 15 - 0.5f * 19);  // 815.5
  EXPECT_EQ(y[129], -9.5f);
  EXPECT_EQ(y[160], 4 - 0.5f * 2);
  EXPECT_EQ(y[161], -1.0f);
  for (int j = 192; j < 224; ++j) EXPECT_EQ(y[j], 0.0f) << j;
  EXPECT_EQ(y[224], 32 * 2 - 0.5f * 48);  // 40
  EXPECT_EQ(y[225], -24.0f);
}

TEST(Quant, Q6_KHandBuiltBlock) {
  std::vector<uint8_t> b(210, 0);
  uint8_t* ql = &b[0];
  uint8_t* qh = &b[128];
  int8_t* sc = reinterpret_cast<int8_t*>(&b[192]);
  for (int i = 0; i < 16; ++i) sc[i] = static_cast<int8_t>(i + 1);
  sc[2] = -3;
  put_u16(&b[208], 0x3400);  // d = 0.25, stored last
  ql[0] = 0x21;
  ql[32] = 0x0F;
  qh[0] = 0xE4;  // bit pairs (from low) 0, 1, 2, 3
  ql[64 + 17] = 0xFF;
  qh[32 + 17] = 0xFF;
  const auto y = dequant(DType::Q6_K, b, 256);
  EXPECT_EQ(y[0], 0.25f * 1 * -31);   // (1 | 0<<4) - 32
  EXPECT_EQ(y[32], 0.25f * -3 * -1);  // (15 | 1<<4) - 32, scale 2
  EXPECT_EQ(y[64], 0.25f * 5 * 2);    // (2 | 2<<4) - 32, scale 4
  EXPECT_EQ(y[96], 0.25f * 7 * 16);   // (0 | 3<<4) - 32, scale 6
  EXPECT_EQ(y[1], 0.25f * 1 * -32);
  EXPECT_EQ(y[16], 0.25f * 2 * -32);  // second scale of the first quarter
  EXPECT_EQ(y[128 + 17], 0.25f * 10 * 31);
  EXPECT_EQ(y[128 + 49], 0.25f * 12 * 16);
  EXPECT_EQ(y[128 + 81], 0.25f * 14 * 31);
  EXPECT_EQ(y[128 + 113], 0.25f * 16 * 16);
  EXPECT_EQ(y[128 + 16], 0.25f * 10 * -32);
}

TEST(Quant, Q8_0QuantizerMatchesGgmlRef) {
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f;  // amax 127 -> d = 1 exactly, id = 1
  x[1] = -3.4f;
  x[2] = 2.5f;   // roundf rounds halves away from zero
  x[3] = -2.5f;
  x[4] = 0.49f;
  std::vector<uint8_t> q(34);
  quantize_row(DType::Q8_0, x.data(), q.data(), 32);
  uint16_t d;
  std::memcpy(&d, &q[0], 2);
  EXPECT_EQ(d, 0x3C00);
  const int8_t* qs = reinterpret_cast<const int8_t*>(&q[2]);
  EXPECT_EQ(qs[0], 127);
  EXPECT_EQ(qs[1], -3);
  EXPECT_EQ(qs[2], 3);
  EXPECT_EQ(qs[3], -3);
  EXPECT_EQ(qs[4], 0);
  // All zeros: d = 0, id = 0, q = 0.
  std::vector<float> zeros(32, 0.0f);
  quantize_row(DType::Q8_0, zeros.data(), q.data(), 32);
  for (int j = 0; j < 34; ++j) EXPECT_EQ(q[j], 0) << j;
}

TEST(Quant, Q4_0QuantizerMatchesGgmlRef) {
  std::vector<float> x(32, 0.0f);
  x[0] = -16.0f;  // signed max -> d = 2, id = 0.5
  x[1] = 14.0f;   // 7 + 8.5 -> 15
  x[2] = 15.0f;   // 7.5 + 8.5 = 16 -> clamped to 15
  x[3] = 1.0f;    // 9
  x[4] = -1.0f;   // 8
  x[5] = 0.9f;    // 8.95 -> 8
  x[16] = -3.0f;  // 7, high nibble of byte 0
  std::vector<uint8_t> q(18);
  quantize_row(DType::Q4_0, x.data(), q.data(), 32);
  uint16_t d;
  std::memcpy(&d, &q[0], 2);
  EXPECT_EQ(d, 0x4000);
  EXPECT_EQ(q[2], 0x00 | (7 << 4));
  EXPECT_EQ(q[3], 15 | (8 << 4));  // x[17] = 0 -> 8
  EXPECT_EQ(q[4], 15 | (8 << 4));
  EXPECT_EQ(q[5], 9 | (8 << 4));
  EXPECT_EQ(q[6], 8 | (8 << 4));
  EXPECT_EQ(q[7], 8 | (8 << 4));
  // A positive extreme gives a negative d: x = 16 -> d = -2 and stores as q = 0.
  x[0] = 16.0f;
  quantize_row(DType::Q4_0, x.data(), q.data(), 32);
  std::memcpy(&d, &q[0], 2);
  EXPECT_EQ(d, 0xC000);
  const auto y = dequant(DType::Q4_0, q, 32);
  EXPECT_EQ(y[0], 16.0f);
}

TEST(Quant, RoundTripErrorBounds) {
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  const int64_t n = 32 * 64;
  std::vector<float> x(n);
  for (auto& v : x) v = dist(rng);
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0}) {
    std::vector<uint8_t> q(static_cast<size_t>(dtype_row_bytes(t, n)));
    quantize_row(t, x.data(), q.data(), n);
    const auto y = dequant(t, q, n);
    for (int64_t b = 0; b < n; b += 32) {
      float amax = 0;
      for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[b + j]));
      for (int j = 0; j < 32; ++j) {
        const float v = x[b + j];
        float bound = 0;
        switch (t) {
          case DType::F32: bound = 0; break;
          case DType::F16: bound = std::fabs(v) * std::ldexp(1.0f, -11) + std::ldexp(1.0f, -25); break;
          case DType::BF16: bound = std::fabs(v) * std::ldexp(1.0f, -8); break;
          // |x - q d16| <= d/2 + 127 |d - d16|, d16 within 2^-11 of d.
          case DType::Q8_0: bound = amax / 127 * (0.5f + 127.0f / 2048) * 1.0001f; break;
          // Clamping at 15 can cost a whole step; plus 8 |d - d16|.
          case DType::Q4_0: bound = amax / 8 * (1.0f + 8.0f / 2048) * 1.0001f; break;
          default: break;
        }
        ASSERT_LE(std::fabs(y[b + j] - v), bound) << dtype_name(t) << " at " << b + j;
      }
    }
  }
}

TEST(Quant, ErrorsAreClear) {
  std::vector<float> x(256, 1.0f);
  std::vector<uint8_t> q(1024);
  EXPECT_THROW(quantize_row(DType::Q4_K, x.data(), q.data(), 200), Error);  // not whole super-blocks
  EXPECT_THROW(quantize_row(DType::Q8_0, x.data(), q.data(), 31), Error);
  EXPECT_THROW(dequantize_row(DType::Q6_K, q.data(), x.data(), 100), Error);
  x[3] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(quantize_row(DType::Q4_0, x.data(), q.data(), 32), Error);
  EXPECT_TRUE(can_quantize_to(DType::Q8_0));
  EXPECT_TRUE(can_quantize_to(DType::Q6_K));  // quant_kquant_test.cpp
}

}  // namespace
}  // namespace tenx
