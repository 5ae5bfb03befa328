// ggml's K-quant quantizers (quantize_row_q4_K_ref, quantize_row_q6_K_ref),
// split from quant.cpp. The layouts: docs/gguf-format.md §2.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#include "ops/quant_blocks.hpp"
#include "tenx/tensor/half.hpp"
#include "tenx/util/error.hpp"

namespace tenx::quant_blocks {
namespace {

// ---- K-quants: ggml's quantize_row_q4_K_ref / quantize_row_q6_K_ref ----
// Written statement by statement in ggml's float operation order (no fused
// multiply-adds: this file is built without -mfma), so the bytes are the ones
// llama.cpp writes for a model quantized without an importance matrix.
// tests/peer/ggml_quant_bytes_test.cpp compares them with llama.cpp's own binary.

constexpr float kGroupMaxEps = 1e-15f;  // ggml's GROUP_MAX_EPS: a sub-block this small is all zero

// ggml's nearest_int: round half to even through the float mantissa (exact for
// |fval| <= 2^22). Out of that range it returns garbage like ggml, never UB.
int nearest_int(float fval) {
  const float val = fval + 12582912.f;
  int i;
  std::memcpy(&i, &val, sizeof(int));
  return (i & 0x007fffff) - 0x00400000;
}

// ggml's make_qkx2_quants: a scale and a min for n values x on levels 0..nmax,
// minimising the weighted squared error over nstep+1 trial scales. L gets the
// levels, *the_min the (positive) offset to subtract; returns the scale.
float make_qkx2_quants(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* the_min,
                       uint8_t* Laux, float rmin, float rdelta, int nstep) {
  float min = x[0];
  float max = x[0];
  float sum_w = weights[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    const float w = weights[i];
    sum_w += w;
    sum_x += w * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    *the_min = -min;
    return 0.f;
  }
  float iscale = static_cast<float>(nmax) / (max - min);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    const int l = nearest_int(iscale * (x[i] - min));
    L[i] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
    float diff = scale * static_cast<float>(L[i]) + min - x[i];
    diff = diff * diff;  // use_mad = false
    best_error += weights[i] * diff;
  }
  if (nstep < 1) {
    *the_min = -min;
    return scale;
  }
  for (int is = 0; is <= nstep; ++is) {
    iscale = (rmin + rdelta * static_cast<float>(is) + static_cast<float>(nmax)) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      int l = nearest_int(iscale * (x[i] - min));
      l = std::max(0, std::min(nmax, l));
      Laux[i] = static_cast<uint8_t>(l);
      const float w = weights[i];
      const float fl = static_cast<float>(l);
      sum_l += w * fl;
      sum_l2 += w * fl * fl;
      sum_xl += w * fl * x[i];
    }
    const float D = sum_w * sum_l2 - sum_l * sum_l;
    if (D > 0) {
      float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
      float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
      if (this_min > 0) {
        this_min = 0;
        this_scale = sum_xl / sum_l2;
      }
      float cur_error = 0;
      for (int i = 0; i < n; ++i) {
        float diff = this_scale * static_cast<float>(Laux[i]) + this_min - x[i];
        diff = diff * diff;
        cur_error += weights[i] * diff;
      }
      if (cur_error < best_error) {
        for (int i = 0; i < n; ++i) L[i] = Laux[i];
        best_error = cur_error;
        scale = this_scale;
        min = this_min;
      }
    }
  }
  *the_min = -min;
  return scale;
}

// ggml's make_qx_quants with rmse_type 1 and no importance weights (w = x²):
// a signed scale for levels -nmax..nmax-1, stored in L as level + nmax.
float make_qx_quants(int n, int nmax, const float* x, int8_t* L) {
  float max = 0;
  float amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.f;
  }
  float iscale = static_cast<float>(-nmax) / max;
  float sumlx = 0;
  float suml2 = 0;
  for (int i = 0; i < n; ++i) {
    int l = nearest_int(iscale * x[i]);
    l = std::max(-nmax, std::min(nmax - 1, l));
    L[i] = static_cast<int8_t>(l + nmax);
    const float w = x[i] * x[i];
    const float fl = static_cast<float>(l);
    sumlx += w * x[i] * fl;
    suml2 += w * fl * fl;
  }
  float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(is)) / max;
    sumlx = suml2 = 0;
    for (int i = 0; i < n; ++i) {
      int l = nearest_int(iscale * x[i]);
      l = std::max(-nmax, std::min(nmax - 1, l));
      const float w = x[i] * x[i];
      const float fl = static_cast<float>(l);
      sumlx += w * x[i] * fl;
      suml2 += w * fl * fl;
    }
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; ++i) {
        const int l = nearest_int(iscale * x[i]);
        L[i] = static_cast<int8_t>(nmax + std::max(-nmax, std::min(nmax - 1, l)));
      }
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

// An f16 super-block scale that overflowed would dequantize to inf/NaN, and
// values whose squares overflow float (|x| > ~1e19) make the fitted scales NaN;
// ggml writes either anyway. tenx refuses such rows instead.
void check_scale_fits(DType type, uint16_t h, float value) {
  if ((h & 0x7C00u) == 0x7C00u)
    throw Error(std::string(dtype_name(type)),
                "values too large: the super-block scale " + std::to_string(value) + " overflows f16");
}

void check_fitted_scale(DType type, float scale) {
  if (!std::isfinite(scale))
    throw Error(std::string(dtype_name(type)), "values too large: a sub-block's fitted scale is not finite");
}

}  // namespace

// ggml's quantize_row_q4_K_ref. Block: f16 d, f16 dmin, 12 bytes of 6-bit
// scales and mins (8 sub-blocks of 32), 128 bytes of 4-bit levels.
void quantize_q4_k(const float* x, uint8_t* y, int64_t nb) {
  uint8_t L[kQKK];
  uint8_t Laux[32];
  float weights[32];
  float mins[kQKK / 32];
  float scales[kQKK / 32];
  for (int64_t i = 0; i < nb; ++i, x += kQKK, y += 144) {
    check_finite_block(DType::Q4_K, x, kQKK);
    float max_scale = 0;  // the min is subtracted, so scales are never negative
    float max_min = 0;
    for (int j = 0; j < kQKK / 32; ++j) {
      float sum_x2 = 0;
      for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
      const float av_x = std::sqrt(sum_x2 / 32);
      for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(x[32 * j + l]);
      scales[j] = make_qkx2_quants(32, 15, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, -1.f, 0.1f, 20);
      check_fitted_scale(DType::Q4_K, scales[j]);
      check_fitted_scale(DType::Q4_K, mins[j]);
      if (scales[j] > max_scale) max_scale = scales[j];
      if (mins[j] > max_min) max_min = mins[j];
    }
    uint8_t* sc6 = y + 4;  // the 12 packed scale bytes
    std::memset(sc6, 0, 12);
    const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    for (int j = 0; j < kQKK / 32; ++j) {
      uint8_t ls = static_cast<uint8_t>(nearest_int(inv_scale * scales[j]));
      uint8_t lm = static_cast<uint8_t>(nearest_int(inv_min * mins[j]));
      ls = std::min<uint8_t>(63, ls);
      lm = std::min<uint8_t>(63, lm);
      if (j < 4) {  // low 6 bits of scale j in byte j, of min j in byte j+4
        sc6[j] = ls;
        sc6[j + 4] = lm;
      } else {  // low 4 bits in byte j+4, the top 2 bits in bytes j-4 (scale) and j (min)
        sc6[j + 4] = static_cast<uint8_t>((ls & 0xF) | ((lm & 0xF) << 4));
        sc6[j - 4] |= static_cast<uint8_t>((ls >> 4) << 6);
        sc6[j] |= static_cast<uint8_t>((lm >> 4) << 6);
      }
    }
    const uint16_t d16 = f32_to_f16(max_scale / 63.f);
    const uint16_t dmin16 = f32_to_f16(max_min / 63.f);
    check_scale_fits(DType::Q4_K, d16, max_scale / 63.f);
    check_scale_fits(DType::Q4_K, dmin16, max_min / 63.f);
    store_u16(y, d16);
    store_u16(y + 2, dmin16);
    // Requantize every value against the stored (rounded) scale and min.
    for (int j = 0; j < kQKK / 32; ++j) {
      uint8_t sc, m;
      q4_k_scale_min(j, sc6, &sc, &m);
      const float d = f16_to_f32(d16) * static_cast<float>(sc);
      if (d == 0.0f) continue;
      const float dm = f16_to_f32(dmin16) * static_cast<float>(m);
      for (int ii = 0; ii < 32; ++ii) {
        const int l = nearest_int((x[32 * j + ii] + dm) / d);
        L[32 * j + ii] = static_cast<uint8_t>(std::max(0, std::min(15, l)));
      }
    }
    // Byte l of each 32-byte group: sub-block 2k in the low nibble, 2k+1 in the high one.
    uint8_t* q = y + 16;
    for (int j = 0; j < kQKK; j += 64, q += 32)
      for (int l = 0; l < 32; ++l) q[l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 4));
  }
}

// ggml's quantize_row_q6_K_ref. Block: 128 bytes of low nibbles (ql), 64 bytes
// of high 2-bit pairs (qh), 16 int8 scales (sub-blocks of 16), f16 d.
void quantize_q6_k(const float* x, uint8_t* y, int64_t nb) {
  int8_t L[kQKK];
  float scales[kQKK / 16];
  for (int64_t i = 0; i < nb; ++i, x += kQKK, y += 210) {
    check_finite_block(DType::Q6_K, x, kQKK);
    float max_scale = 0;
    float max_abs_scale = 0;
    for (int ib = 0; ib < kQKK / 16; ++ib) {
      const float scale = make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib);
      check_fitted_scale(DType::Q6_K, scale);
      scales[ib] = scale;
      const float abs_scale = std::fabs(scale);
      if (abs_scale > max_abs_scale) {
        max_abs_scale = abs_scale;
        max_scale = scale;
      }
    }
    if (max_abs_scale < kGroupMaxEps) {
      std::memset(y, 0, 210);
      continue;
    }
    const float iscale = -128.f / max_scale;
    const uint16_t d16 = f32_to_f16(1 / iscale);
    check_scale_fits(DType::Q6_K, d16, 1 / iscale);
    store_u16(y + 208, d16);
    int8_t* sc = reinterpret_cast<int8_t*>(y + 192);
    for (int ib = 0; ib < kQKK / 16; ++ib)
      sc[ib] = static_cast<int8_t>(std::min(127, nearest_int(iscale * scales[ib])));
    for (int j = 0; j < kQKK / 16; ++j) {
      const float d = f16_to_f32(d16) * static_cast<float>(sc[j]);
      if (d == 0.0f) continue;
      for (int ii = 0; ii < 16; ++ii) {
        int l = nearest_int(x[16 * j + ii] / d);
        l = std::max(-32, std::min(31, l));
        L[16 * j + ii] = static_cast<int8_t>(l + 32);
      }
    }
    // Per 128 values: ql[l] holds levels l and l+64 (low nibbles), ql[l+32]
    // levels l+32 and l+96; qh[l] their top 2 bits at shifts 0, 2, 4, 6.
    uint8_t* ql = y;
    uint8_t* qh = y + 128;
    for (int j = 0; j < kQKK; j += 128, ql += 64, qh += 32) {
      for (int l = 0; l < 32; ++l) {
        const uint8_t q1 = L[j + l + 0] & 0xF;
        const uint8_t q2 = L[j + l + 32] & 0xF;
        const uint8_t q3 = L[j + l + 64] & 0xF;
        const uint8_t q4 = L[j + l + 96] & 0xF;
        ql[l + 0] = static_cast<uint8_t>(q1 | (q3 << 4));
        ql[l + 32] = static_cast<uint8_t>(q2 | (q4 << 4));
        qh[l] = static_cast<uint8_t>((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) |
                                     ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
      }
    }
  }
}

}  // namespace tenx::quant_blocks
