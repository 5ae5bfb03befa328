// AVX-512 build of the vectorised kernels (simd_body.inl): 16 floats per vector,
// 32 registers, so a 4 x 4 tile of accumulators fits with room for the loads.
#include <immintrin.h>

#include <cstdint>

#include "ops/simd_kernels.hpp"
#include "tenx/ops/quant.hpp"
#include "tenx/tensor/half.hpp"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")

namespace tenx::simd::avx512 {
namespace {
#define TENX_VF_BYTES 64
#define TENX_MR 4
#define TENX_NR 4
#include "ops/simd_types.inl"

inline vf madd(vf a, vf b, vf c) { return (vf)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c); }
// (_mm512_reduce_add_ps trips a false -Wuninitialized in GCC 12's headers.)
inline float hsum(vf a) {
  __m256 lo, hi;
  __builtin_memcpy(&lo, &a, 32);
  __builtin_memcpy(&hi, reinterpret_cast<const char*>(&a) + 32, 32);
  const __m256 s8 = _mm256_add_ps(lo, hi);
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
inline vf load_f16(const uint8_t* p) {
  // maskz form: the plain one trips a false -Wmaybe-uninitialized in GCC 12.
  return (vf)_mm512_maskz_cvtph_ps(0xFFFF, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

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
                         avx512::attend};
  return k;
}
}  // namespace tenx::simd
