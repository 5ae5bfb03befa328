// AVX-512 build of the vectorised kernels (simd_body.inl): 16 floats per vector,
// 32 registers, so a 4 x 4 tile of accumulators fits with room for the loads.
#include <immintrin.h>

#include <cstdint>

#include "tenx/ops/simd_kernels.hpp"
#include "tenx/ops/quant.hpp"
#include "tenx/tensor/half.hpp"

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*() and trip false
// (maybe-)uninitialized warnings once inlined; the values are fully written.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// gcc scopes the target with push_options/target; clang with an attribute on every function
// (it ignores #pragma GCC target, and its intrinsics then refuse to inline).
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")
#endif

namespace tenx::simd::avx512 {
namespace {
#define TENX_VF_BYTES 64
#define TENX_MR 4
#define TENX_HSUM_HALVING 1  // hsum adds lane i and i + kW/2, then halves again (simd_body.inl)
#define TENX_NR 4
#include "ops/simd_types.inl"

#include "ops/simd_avx512_prims.inl"
#include "ops/simd_body.inl"
#undef TENX_VF_BYTES
#undef TENX_MR
#undef TENX_NR
#undef TENX_HSUM_HALVING
}  // namespace
}  // namespace tenx::simd::avx512

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

namespace tenx::simd {
// Without VNNI the integer dot products are AVX2's (maddubs); with it, the whole
// table comes from simd_avx512_vnni.cpp (the same kernels built with VNNI allowed).
const Kernels& avx512_kernels() {
  if (isa_has_vnni()) return avx512_vnni_kernels();
  const Kernels& a = avx2_kernels();
  static const Kernels k{Isa::Avx512, "avx512", avx512::gemv, avx512::gemm, avx512::dequantize_rows,
                         avx512::attend, avx512::silu_mul, avx512::gelu_mul, a.q8_name, a.q8_group, a.quantize_q8_act,
                         a.gemv_q8, a.pack_q8, a.gemm_q8, a.prepare_q8_gemv, a.q8_gemv_bytes,
                         a.quantize_q8k_act, a.gemv_qk,
                         avx512::rmsnorm_row};
  return k;
}
}  // namespace tenx::simd
