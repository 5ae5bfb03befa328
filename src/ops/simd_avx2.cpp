// AVX2 + FMA build of the vectorised kernels (simd_body.inl): 8 floats per
// vector, 16 registers, so the tile is 4 x 3 (12 accumulators).
#include <immintrin.h>

#include <cstdint>

#include "ops/simd_kernels.hpp"
#include "tenx/ops/quant.hpp"
#include "tenx/tensor/half.hpp"

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")

namespace tenx::simd::avx2 {
namespace {
#define TENX_VF_BYTES 32
#define TENX_MR 4
#define TENX_NR 3
#include "ops/simd_types.inl"

inline vf madd(vf a, vf b, vf c) { return (vf)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c); }
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
#undef TENX_VF_BYTES
#undef TENX_MR
#undef TENX_NR
}  // namespace
}  // namespace tenx::simd::avx2

#pragma GCC pop_options

namespace tenx::simd {
const Kernels& avx2_kernels() {
  static const Kernels k{Isa::Avx2,           "avx2",        avx2::gemv,    avx2::gemm,
                         avx2::dequantize_rows, avx2::attend, avx2::silu_mul};
  return k;
}
}  // namespace tenx::simd
