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

// Activation rows quantized per 32-element block (simd_q8.inl): row t has
// qs[t·nb·32 ..], and its block scales and sums of qs at d[t·nb ..], sum[t·nb ..].
struct Q8Act {
  const int8_t* qs;
  const float* d;
  const int32_t* sum;
  int64_t nb;  // blocks per row
};

// v rounded to an IEEE half and back (out of line: one definition for every ISA).
float f16_rounded(float v);

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

  // Q8_0 / Q4_0 weights against 8-bit activations (simd_q8.inl). q8_name says which
  // integer dot product runs ("avx512-vnni", "avx2", "generic").
  const char* q8_name;
  int q8_group;  // rows per packed group
  // x[0..n) (n a multiple of 32) to Q8 blocks: qs, scale d and Σqs per block.
  void (*quantize_q8_act)(int8_t* qs, float* d, int32_t* sum, const float* x, int64_t n);
  // y[t·ldy + r - r0] = x[t] · row r of w for r in [r0, r1), t < T (raw rows; decode).
  void (*gemv_q8)(float* y, int64_t ldy, const Q8Act& x, int64_t T, const TensorView& w, int64_t r0, int64_t r1);
  // Rows [r0, r1) of w into q8_packed_bytes(...) bytes at dst.
  void (*pack_q8)(uint8_t* dst, const TensorView& w, int64_t r0, int64_t r1);
  // y[t·ldy + r] = x[t] · packed row r, t < T, r < n_rows.
  void (*gemm_q8)(float* y, int64_t ldy, const Q8Act& x, int64_t T, const uint8_t* packed, int64_t n_rows);
};

// Bytes pack_q8 writes for n_rows rows of nb blocks.
inline int64_t q8_packed_bytes(const Kernels& k, int64_t n_rows, int64_t nb) {
  return (n_rows + k.q8_group - 1) / k.q8_group * nb * 36 * k.q8_group;
}

bool isa_supported(Isa isa);  // the CPU (and OS) can run it
bool isa_has_vnni();          // AVX-512 VNNI (vpdpbusd) on top of Isa::Avx512
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
const Kernels& avx512_kernels();       // avx512_vnni_kernels() where the CPU has VNNI
const Kernels& avx512_vnni_kernels();  // only to be called when isa_has_vnni()

}  // namespace tenx::simd
