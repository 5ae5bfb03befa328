// Baseline build of the vectorised kernels (simd_body.inl) for any x86-64 (SSE2)
// or other CPU: 4 floats per vector, no FMA (a*b + c rounds twice), 4 x 2 tile.
#include <cstdint>

#include "tenx/ops/simd_kernels.hpp"
#include "tenx/ops/quant.hpp"
#include "tenx/tensor/half.hpp"

namespace tenx::simd::generic {
namespace {
#define TENX_VF_BYTES 16
#define TENX_MR 4
#define TENX_NR 2
#include "ops/simd_types.inl"

inline vf madd(vf a, vf b, vf c) { return a * b + c; }
inline float madd1(float a, float b, float c) { return a * b + c; }  // unfused, as madd (no FMA here)
inline float hsum(vf a) { return (a[0] + a[1]) + (a[2] + a[3]); }
inline vf load_f16(const uint8_t* p) {
  vf v;
  for (int i = 0; i < 4; ++i) {
    uint16_t h;
    __builtin_memcpy(&h, p + 2 * i, 2);
    v[i] = f16_to_f32(h);
  }
  return v;
}

inline vf load_bf16(const uint8_t* p) {
  vf v;
  for (int i = 0; i < 4; ++i) {
    uint16_t h;
    __builtin_memcpy(&h, p + 2 * i, 2);
    v[i] = bf16_to_f32(h);
  }
  return v;
}
inline vf load_i8(const int8_t* p) { return vf{float(p[0]), float(p[1]), float(p[2]), float(p[3])}; }
inline vi load_u8(const uint8_t* p) { return vi{p[0], p[1], p[2], p[3]}; }
inline float half_to_float(uint16_t h) { return f16_to_f32(h); }

#include "ops/simd_body.inl"

// The integer dot products in plain C++ (any CPU; the compiler may vectorise them).
#define TENX_QG 4
#define TENX_QN 4
#define TENX_QXOR 0
inline vi round_to_int(vf v) {
  vi r;
  for (int l = 0; l < kW; ++l) r[l] = static_cast<int32_t>(__builtin_nearbyintf(v[l]));
  return r;
}

template <int N>
void q8_tile(float* y, int64_t ldy, const int8_t* xq, const float* xd, const int32_t* xs, int64_t nb,
             const uint8_t* group, int valid) {
  for (int r = 0; r < valid; ++r) {
    for (int n = 0; n < N; ++n) {
      const int8_t* x = xq + n * nb * kQK;
      const uint8_t* g = group;
      float acc = 0.0f;
      for (int64_t b = 0; b < nb; ++b, g += 36 * TENX_QG, x += kQK) {
        int32_t s = 0;
        for (int j = 0; j < kQK; ++j) s += static_cast<int8_t>(g[(j / 4) * 4 * TENX_QG + r * 4 + j % 4]) * x[j];
        float dw;
        __builtin_memcpy(&dw, g + 32 * TENX_QG + 4 * r, 4);
        acc += static_cast<float>(s) * (dw * xd[n * nb + b]);
      }
      y[n * ldy + r] = acc;
    }
  }
}

float q8_dot_q8_0(const uint8_t* w, const int8_t* xq, const float* xd, const int32_t* xs, int64_t nb) {
  float acc = 0.0f;
  for (int64_t b = 0; b < nb; ++b, w += 34, xq += kQK) {
    const int8_t* q = reinterpret_cast<const int8_t*>(w + 2);
    int32_t s = 0;
    for (int j = 0; j < kQK; ++j) s += q[j] * xq[j];
    acc += static_cast<float>(s) * (block_scale(w) * xd[b]);
  }
  return acc;
}

float q8_dot_q4_0(const uint8_t* w, const int8_t* xq, const float* xd, const int32_t* xs, int64_t nb) {
  float acc = 0.0f;
  for (int64_t b = 0; b < nb; ++b, w += 18, xq += kQK) {
    int32_t s = 0;  // Σ nibble·x - 8·Σx = Σ (nibble - 8)·x, exactly
    for (int j = 0; j < kQK / 2; ++j) s += (w[2 + j] & 0xF) * xq[j] + (w[2 + j] >> 4) * xq[j + kQK / 2];
    acc += static_cast<float>(s - 8 * xs[b]) * (block_scale(w) * xd[b]);
  }
  return acc;
}

#include "ops/simd_q8.inl"
#include "ops/simd_qk.inl"

// Q4_K / Q6_K row dots in plain integer loops (the compiler may vectorise them).
float qk_dot_q4_k(const uint8_t* w, const int8_t* xq, const float* xd, const int16_t* bsums, int64_t nsb) {
  float acc = 0.0f;
  for (int64_t i = 0; i < nsb; ++i, w += 144, xq += kQKK, bsums += 16) {
    int32_t sc[8], m[8];
    qk_q4_k_scales(w + 4, sc, m);
    int32_t s1 = 0;
    for (int j = 0; j < 4; ++j) {
      const uint8_t* q = w + 16 + 32 * j;
      int32_t lo = 0, hi = 0;
      for (int l = 0; l < 32; ++l) {
        lo += (q[l] & 0xF) * xq[64 * j + l];
        hi += (q[l] >> 4) * xq[64 * j + 32 + l];
      }
      s1 += sc[2 * j] * lo + sc[2 * j + 1] * hi;
    }
    acc += xd[i] * (block_scale(w) * static_cast<float>(s1) -
                    block_scale(w + 2) * static_cast<float>(qk_q4_k_min_sum(m, bsums)));
  }
  return acc;
}

float qk_dot_q6_k(const uint8_t* w, const int8_t* xq, const float* xd, const int16_t* bsums, int64_t nsb) {
  float acc = 0.0f;
  for (int64_t i = 0; i < nsb; ++i, w += 210, xq += kQKK, bsums += 16) {
    const int8_t* sc = reinterpret_cast<const int8_t*>(w + 192);
    int32_t s = 0;
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = w + 64 * h;
      const uint8_t* qh = w + 128 + 32 * h;
      const int8_t* x = xq + 128 * h;
      for (int k = 0; k < 8; ++k) {  // 16-element sub-blocks 8h + k
        int32_t sub = 0;
        for (int l = 16 * (k % 2); l < 16 * (k % 2) + 16; ++l) {
          // element 32c + l of the half: ql byte l + 32·(c % 2) (low nibble for c < 2),
          // qh byte l, bits 2c..2c+1
          const int c = k / 2;
          const uint8_t lb = ql[l + (c % 2) * 32];
          const int q = ((c < 2 ? lb & 0xF : lb >> 4) | (((qh[l] >> (2 * c)) & 3) << 4));
          sub += q * x[32 * c + l];
        }
        s += sc[8 * h + k] * (sub - 32 * bsums[8 * h + k]);
      }
    }
    acc += xd[i] * block_scale(w + 208) * static_cast<float>(s);
  }
  return acc;
}

void qk_row(float* y, int64_t ldy, const uint8_t* w, DType type, const Q8KAct& x, int64_t T) {
  const int64_t nsb = x.nsb;
  for (int64_t t = 0; t < T; ++t) {
    const int8_t* xq = x.qs + t * nsb * kQKK;
    const float* xd = x.d + t * nsb;
    const int16_t* xs = x.bsums + t * nsb * 16;
    y[t * ldy] = type == DType::Q4_K ? qk_dot_q4_k(w, xq, xd, xs, nsb) : qk_dot_q6_k(w, xq, xd, xs, nsb);
  }
}
#undef TENX_QG
#undef TENX_QN
#undef TENX_QXOR
#undef TENX_VF_BYTES
#undef TENX_MR
#undef TENX_NR
}  // namespace
}  // namespace tenx::simd::generic

namespace tenx::simd {
const Kernels& generic_kernels() {
  static const Kernels k{Isa::Generic,      "generic",          generic::gemv,           generic::gemm,
                         generic::dequantize_rows, generic::attend, generic::silu_mul, generic::gelu_mul, "generic",
                         generic::kQ8Group, generic::quantize_q8_act, generic::gemv_q8, generic::pack_q8,
                         generic::gemm_q8, nullptr, nullptr, generic::quantize_q8k_act, generic::gemv_qk, generic::rmsnorm_row};
  return k;
}
}  // namespace tenx::simd
