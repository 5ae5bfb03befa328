#pragma once
// The vectorised inner loops behind kernels.hpp, compiled once per instruction
// set (simd_generic.cpp: baseline x86-64 / any CPU, simd_avx2.cpp, simd_avx512.cpp)
// from one body (simd_body.inl) and chosen at run time, so the binary runs on any
// x86-64 and still uses AVX-512 where the CPU has it. Global compile flags stay
// at the baseline; only these files raise the target, per function.
//
// Internal to src/ops (tests include it to check every instruction set).
#include <cstdint>

#include "tenx/ops/kernels.hpp"

namespace tenx::simd {

inline constexpr int64_t kMaxAttendGroup = 64;

enum class Isa { Generic = 0, Avx2 = 1, Avx512 = 2 };

struct Kernels {
  Isa isa;
  const char* name;
  // y[r - r0] = x · row r of w, for rows [r0, r1) (one activation row, any storage type).
  // scratch holds at least w.ne[0] floats.
  void (*gemv)(float* y, const float* x, const TensorView& w, int64_t r0, int64_t r1, float* scratch);
  // y[t * ldy + r] = x[t] · w[r] for t < T, r < n_rows; x and w row-major with row length K.
  void (*gemm)(float* y, int64_t ldy, const float* x, int64_t T, const float* w, int64_t n_rows,
               int64_t K);
  // dst[r * in + k]: rows [r0, r1) of w as floats (bit-identical to dequantize_row).
  void (*dequantize_rows)(float* dst, const TensorView& w, int64_t r0, int64_t r1);
  // G query heads sharing one K/V head (q, out: G consecutive rows of hd, G <= kMaxAttendGroup):
  // out[g] = softmax(scale · q[g]·kⱼ) · vⱼ, with kⱼ = k + j·stride. scores holds G·n_keys floats.
  void (*attend)(float* out, const float* q, int64_t G, const float* k, const float* v, int64_t n_keys,
                 int64_t stride, int64_t hd, float scale, float* scores);
  // gate[i] = silu(gate[i]) · up[i] (vectorised exp, within a few ulp of expf).
  void (*silu_mul)(float* gate, const float* up, int64_t n);
};

bool isa_supported(Isa isa);  // the CPU (and OS) can run it
Isa best_isa();               // the widest supported one
const Kernels& kernels_for(Isa isa);

// The fast kernels with an explicit instruction set (kernels.hpp uses best_isa()).
void matmul_with(const Kernels& k, ExecContext& ctx, float* y, const float* x, const TensorView& w,
                 int64_t T);
void attention_with(const Kernels& k, ExecContext& ctx, float* out, const float* q,
                    const AttentionKeys* keys, int64_t T, const AttentionShape& shape);
void silu_mul_with(const Kernels& k, ExecContext& ctx, float* gate, const float* up, int64_t n);

// Per-ISA tables (defined in simd_<isa>.cpp).
const Kernels& generic_kernels();
const Kernels& avx2_kernels();
const Kernels& avx512_kernels();

}  // namespace tenx::simd
