// AVX-512 build of the vectorised kernels (simd_body.inl): 16 floats per vector,
// 32 registers, so a 4 x 4 tile of accumulators fits with room for the loads.
#include <immintrin.h>

#include <cstdint>

#include "ops/simd_kernels.hpp"
#include "tenx/ops/quant.hpp"
#include "tenx/tensor/half.hpp"

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*() and trip false
// (maybe-)uninitialized warnings once inlined; the values are fully written.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")

namespace tenx::simd::avx512 {
namespace {
#define TENX_VF_BYTES 64
#define TENX_MR 4
#define TENX_NR 4
#include "ops/simd_types.inl"

inline vf madd(vf a, vf b, vf c) { return (vf)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c); }
inline float hsum(vf a) {
  const __m512 v = (__m512)a;
  const __m256 s8 = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
inline vf load_f16(const uint8_t* p) {
  return (vf)_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

inline vf load_bf16(const uint8_t* p) {
  const __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  return (vf)_mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
}
inline vf load_i8(const int8_t* p) {
  return (vf)_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}
inline vi load_u8(const uint8_t* p) {
  return (vi)_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
inline float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

#include "ops/simd_body.inl"
#undef TENX_VF_BYTES
#undef TENX_MR
#undef TENX_NR
}  // namespace
}  // namespace tenx::simd::avx512

#pragma GCC pop_options

namespace tenx::simd {
const Kernels& avx512_kernels() {
  static const Kernels k{Isa::Avx512, "avx512", avx512::gemv, avx512::gemm, avx512::dequantize_rows,
                         avx512::attend, avx512::silu_mul};
  return k;
}
}  // namespace tenx::simd
