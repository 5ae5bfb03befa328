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
#undef TENX_VF_BYTES
#undef TENX_MR
#undef TENX_NR
}  // namespace
}  // namespace tenx::simd::generic

namespace tenx::simd {
const Kernels& generic_kernels() {
  static const Kernels k{Isa::Generic, "generic", generic::gemv, generic::gemm, generic::dequantize_rows,
                         generic::attend, generic::silu_mul};
  return k;
}
}  // namespace tenx::simd
