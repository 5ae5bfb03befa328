// AVX2 + FMA build of the vectorised kernels (simd_body.inl): 8 floats per
// vector, 16 registers, so the tile is 4 x 3 (12 accumulators).
#include <immintrin.h>

#include <cstdint>

#include "tenx/ops/simd_kernels.hpp"
#include "tenx/ops/quant.hpp"
#include "tenx/tensor/half.hpp"

// gcc scopes the target with push_options/target; clang with an attribute on every function
// (it ignores #pragma GCC target, and its intrinsics then refuse to inline).
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#endif

namespace tenx::simd::avx2 {
namespace {
#define TENX_VF_BYTES 32
#define TENX_MR 4
#define TENX_HSUM_HALVING 1  // hsum adds lane i and i + kW/2, then halves again (simd_body.inl)
#define TENX_NR 3
#include "ops/simd_types.inl"

inline vf madd(vf a, vf b, vf c) { return (vf)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c); }
inline float madd1(float a, float b, float c) { return __builtin_fmaf(a, b, c); }  // fused, as madd
inline float hsum(vf a) {
  const __m128 lo = _mm256_castps256_ps128((__m256)a), hi = _mm256_extractf128_ps((__m256)a, 1);
  __m128 s = _mm_add_ps(lo, hi);
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
inline vf load_f16(const uint8_t* p) {
  return (vf)_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

inline vf load_bf16(const uint8_t* p) {
  const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return (vf)_mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}
inline vf load_i8(const int8_t* p) {
  return (vf)_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}
inline vi load_u8(const uint8_t* p) {
  return (vi)_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}
inline float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

#include "ops/simd_body.inl"

// Integer dot products with maddubs (u8 x s8 -> pairs of s16) and madd (-> s32).
// maddubs needs one unsigned operand: |w| against x with w's sign, as llama.cpp does
// (|products| <= 127·128, so the pair sums cannot saturate).
#define TENX_QG 8
#define TENX_QN 4
#define TENX_QXOR 0
inline vi round_to_int(vf v) { return (vi)_mm256_cvtps_epi32((__m256)v); }

inline __m256i dot_i8_pairs(__m256i w, __m256i x) {
  const __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
  return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}
inline int32_t load_i32(const int8_t* p) {
  int32_t v;
  __builtin_memcpy(&v, p, 4);
  return v;
}

// Lanes are the 8 rows of the group; step j multiplies 4 bytes of each row with
// the same 4 activation bytes (broadcast).
template <int N>
void q8_tile(float* y, int64_t ldy, const int8_t* xq, const float* xd, const int32_t* xs, int64_t nb,
             const uint8_t* g, int valid) {
  __m256 acc[N];
  for (int n = 0; n < N; ++n) acc[n] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b, g += 36 * TENX_QG) {
    __m256i ia[N];
    for (int n = 0; n < N; ++n) ia[n] = _mm256_setzero_si256();
    for (int j = 0; j < 8; ++j) {
      const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(g + 32 * j));
      for (int n = 0; n < N; ++n)
        ia[n] = _mm256_add_epi32(ia[n], dot_i8_pairs(w, _mm256_set1_epi32(load_i32(xq + (n * nb + b) * kQK + 4 * j))));
    }
    const __m256 dw = _mm256_loadu_ps(reinterpret_cast<const float*>(g + 32 * TENX_QG));
    for (int n = 0; n < N; ++n)
      acc[n] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(ia[n]), _mm256_mul_ps(dw, _mm256_set1_ps(xd[n * nb + b])), acc[n]);
  }
  for (int n = 0; n < N; ++n) {
    if (valid == TENX_QG) {
      _mm256_storeu_ps(y + n * ldy, acc[n]);
    } else {
      float t[TENX_QG];
      _mm256_storeu_ps(t, acc[n]);
      for (int r = 0; r < valid; ++r) y[n * ldy + r] = t[r];
    }
  }
}

// The 32 nibbles of a Q4_0 block as bytes 0..15 in element order (low nibbles first).
inline __m256i q4_0_nibbles(const uint8_t* q) {
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
  return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(b, 4), b), _mm256_set1_epi8(0x0F));
}

__m256i q8_block_q8_0(const uint8_t* blk, const int8_t* x, int32_t) {
  return dot_i8_pairs(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 2)),
                      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x)));
}

// Nibbles are unsigned already: Σ nibble·x by maddubs, minus 8·Σx in lane 0.
__m256i q8_block_q4_0(const uint8_t* blk, const int8_t* x, int32_t x_sum) {
  const __m256i p = _mm256_maddubs_epi16(q4_0_nibbles(blk + 2), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x)));
  return _mm256_sub_epi32(_mm256_madd_epi16(p, _mm256_set1_epi16(1)), _mm256_setr_epi32(8 * x_sum, 0, 0, 0, 0, 0, 0, 0));
}

#include "ops/simd_q8_gemv_x86.inl"
#include "ops/simd_q8.inl"
#define TENX_QK_ROWS_DECODE  // qk_rows_decode in simd_qk_x86.inl
#include "ops/simd_qk.inl"
inline __m256i qk_madd_acc(__m256i acc, __m256i p, __m256i s) { return _mm256_add_epi32(acc, _mm256_madd_epi16(p, s)); }
#define TENX_QK_N 4
#include "ops/simd_qk_x86.inl"
#undef TENX_QK_N
#undef TENX_QK_ROWS_DECODE
#undef TENX_QG
#undef TENX_QN
#undef TENX_QXOR
#undef TENX_VF_BYTES
#undef TENX_MR
#undef TENX_NR
#undef TENX_HSUM_HALVING
}  // namespace
}  // namespace tenx::simd::avx2

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

namespace tenx::simd {
const Kernels& avx2_kernels() {
  static const Kernels k{Isa::Avx2,           "avx2",        avx2::gemv,          avx2::gemm,
                         avx2::dequantize_rows, avx2::attend, avx2::silu_mul, avx2::gelu_mul, "avx2",
                         avx2::kQ8Group,        avx2::quantize_q8_act, avx2::gemv_q8, avx2::pack_q8,
                         avx2::gemm_q8,         nullptr, nullptr,
                                 avx2::quantize_q8k_act, avx2::gemv_qk, avx2::rmsnorm_row};
  return k;
}
}  // namespace tenx::simd
