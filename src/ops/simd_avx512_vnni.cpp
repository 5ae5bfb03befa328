// AVX-512 + VNNI build: the kernels of simd_body.inl as in simd_avx512.cpp, plus the
// integer dot products of simd_q8.inl on vpdpbusd (u8 x s8, four products summed
// into an int32 lane, no saturation). A separate file because the whole target
// region may use VNNI instructions; its table is chosen only when the CPU has them.
#include <immintrin.h>

#include <cstdint>

#include "tenx/ops/simd_kernels.hpp"
#include "tenx/ops/quant.hpp"
#include "tenx/tensor/half.hpp"

// See simd_avx512.cpp.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// gcc scopes the target with push_options/target; clang with an attribute on every function
// (it ignores #pragma GCC target, and its intrinsics then refuse to inline).
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")
#endif

namespace tenx::simd::avx512_vnni {
namespace {
#define TENX_VF_BYTES 64
#define TENX_MR 4
#define TENX_HSUM_HALVING 1  // hsum adds lane i and i + kW/2, then halves again (simd_body.inl)
#define TENX_NR 4
#include "ops/simd_types.inl"
#include "ops/simd_avx512_prims.inl"
#include "ops/simd_body.inl"

// Packed weights are u8 = w + 128 (the first vpdpbusd operand is unsigned), so each
// block's int32 sum carries an extra 128·Σx, which the accumulator starts without.
#define TENX_QG 16
#define TENX_QN 8
#define TENX_QXOR 0x80
inline vi round_to_int(vf v) { return (vi)_mm512_cvtps_epi32((__m512)v); }
inline int32_t load_i32(const int8_t* p) {
  int32_t v;
  __builtin_memcpy(&v, p, 4);
  return v;
}

// Lanes are the 16 rows of the group; step j multiplies 4 bytes of each row with
// the same 4 activation bytes (broadcast). N <= 8: 8 int + 8 float accumulators.
template <int N>
void q8_tile(float* y, int64_t ldy, const int8_t* xq, const float* xd, const int32_t* xs, int64_t nb,
             const uint8_t* g, int valid) {
  __m512 acc[N];
  for (int n = 0; n < N; ++n) acc[n] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b, g += 36 * TENX_QG) {
    __m512i ia[N];
    for (int n = 0; n < N; ++n) ia[n] = _mm512_set1_epi32(-128 * xs[n * nb + b]);
    for (int j = 0; j < 8; ++j) {
      const __m512i w = _mm512_loadu_si512(g + 64 * j);
      for (int n = 0; n < N; ++n)
        ia[n] = _mm512_dpbusd_epi32(ia[n], w, _mm512_set1_epi32(load_i32(xq + (n * nb + b) * kQK + 4 * j)));
    }
    const __m512 dw = _mm512_loadu_ps(g + 32 * TENX_QG);
    for (int n = 0; n < N; ++n)
      acc[n] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ia[n]), _mm512_mul_ps(dw, _mm512_set1_ps(xd[n * nb + b])), acc[n]);
  }
  const __mmask16 mask = valid >= TENX_QG ? 0xFFFF : static_cast<__mmask16>((1u << valid) - 1);
  for (int n = 0; n < N; ++n) _mm512_mask_storeu_ps(y + n * ldy, mask, acc[n]);
}

// One block (32 bytes) per ymm. Q8_0: |w| against x with w's sign (both within ±128).
__m256i q8_block_q8_0(const uint8_t* blk, const int8_t* x, int32_t) {
  const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 2));
  const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x));
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(wv, wv), _mm256_sign_epi8(xv, wv));
}

// Q4_0: the nibbles are unsigned already; Σ nibble·x - 8·Σx, the 8·Σx in lane 0.
__m256i q8_block_q4_0(const uint8_t* blk, const int8_t* x, int32_t x_sum) {
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 2));
  const __m256i u = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(0x0F));
  return _mm256_dpbusd_epi32(_mm256_setr_epi32(-8 * x_sum, 0, 0, 0, 0, 0, 0, 0), u,
                             _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x)));
}

#include "ops/simd_q8_gemv_x86.inl"
#include "ops/simd_q8.inl"
#include "ops/simd_q8_gemv_vnni.inl"
#define TENX_QK_ROWS_DECODE  // qk_rows_decode in simd_qk_x86.inl
#include "ops/simd_qk.inl"
inline __m256i qk_madd_acc(__m256i acc, __m256i p, __m256i s) { return _mm256_dpwssd_epi32(acc, p, s); }
#define TENX_QK_N 8
#define TENX_QK_VNNI  // the Q4_K decode packs vpdpbusd sums (simd_qk_x86.inl)
#include "ops/simd_qk_x86.inl"
#undef TENX_QK_N
#undef TENX_QK_VNNI
#undef TENX_QK_ROWS_DECODE
#undef TENX_QG
#undef TENX_QN
#undef TENX_QXOR
#undef TENX_VF_BYTES
#undef TENX_MR
#undef TENX_NR
#undef TENX_HSUM_HALVING
}  // namespace
}  // namespace tenx::simd::avx512_vnni

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

namespace tenx::simd {
const Kernels& avx512_vnni_kernels() {
  namespace v = avx512_vnni;
  static const Kernels k{Isa::Avx512, "avx512",        v::gemv,      v::gemm,         v::dequantize_rows,
                         v::attend,   v::silu_mul, v::gelu_mul, "avx512-vnni", v::kQ8Group,   v::quantize_q8_act,
                         v::gemv_q8_vnni, v::pack_q8,  v::gemm_q8,    v::prepare_q8_gemv,
                         v::q8_gemv_bytes, v::quantize_q8k_act,
                         v::gemv_qk, v::rmsnorm_row};
  return k;
}
}  // namespace tenx::simd
