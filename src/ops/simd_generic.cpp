// Baseline build of the vectorised kernels (simd_body.inl) for any x86-64 (SSE2)
// or other CPU: 4 floats per vector, no FMA (a*b + c rounds twice), 4 x 2 tile.
#include <cstdint>

#include "ops/simd_kernels.hpp"
#include "tenx/ops/quant.hpp"
#include "tenx/tensor/half.hpp"

namespace tenx::simd::generic {
namespace {
#define TENX_VF_BYTES 16
#define TENX_MR 4
#define TENX_NR 2
#include "ops/simd_types.inl"

inline vf madd(vf a, vf b, vf c) { return a * b + c; }
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

#include "ops/simd_body.inl"
#undef TENX_VF_BYTES
#undef TENX_MR
#undef TENX_NR
}  // namespace
}  // namespace tenx::simd::generic

namespace tenx::simd {
const Kernels& generic_kernels() {
  static const Kernels k{Isa::Generic, "generic", generic::gemv, generic::gemm, generic::dequantize_rows,
                         generic::attend};
  return k;
}
}  // namespace tenx::simd
