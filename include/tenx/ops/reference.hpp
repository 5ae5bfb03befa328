#pragma once
// Scalar reference versions of every kernel in kernels.hpp: plain loops with
// double accumulation, written for clarity, kept forever as the oracle of the
// tests. Same signatures and the same counting as the fast kernels (both use
// one shared cost description), so counters from either are identical.
// Single-threaded: ctx.pool is not used.
#include <cstdint>

#include "tenx/ops/kernels.hpp"

namespace tenx::ref {

// Float semantics: y = x · dequantized W, in double. For Q8_0 / Q4_0 weights this is the
// value the integer kernels approximate (matmul_q8 is what they compute).
void matmul(ExecContext& ctx, float* y, const float* x, const TensorView& w, int64_t T);

// x[0..n) (n a multiple of 32) quantized per 32-element block as llama.cpp's
// quantize_row_q8_0 does on x86: d = the IEEE half nearest amax/127, q =
// round-half-even(x · 127/amax); sum = Σ q. A block holding a NaN or infinity
// gets d = NaN, q = 0, sum = 0.
void quantize_activations_q8(const float* x, int64_t n, int8_t* q, float* d, int32_t* sum);

// The semantics of the fast Q8_0 / Q4_0 matmul: every row of x quantized as above,
// each block's dot product with the weight block's integers (Q4_0: nibble - 8)
// summed exactly, y = Σ_blocks d_w·d_x·Σ q_w·q_x in double. Same counting as matmul.
void matmul_q8(ExecContext& ctx, float* y, const float* x, const TensorView& w, int64_t T);

// x[0..n) (n a multiple of 256) quantized per 256-element super-block exactly as
// ggml's quantize_row_q8_K_ref (Q8_K): max = the first element of largest |x|,
// iscale = -127/max, q = min(127, nearest_int(iscale·x)) (round half to even, ggml's
// magic-number trick), d = 1/iscale (negative when max > 0), bsums[16] = Σ of each 16 q.
// An all-zero block gets d = 0, q = 0. Outside ggml's domain, by tenx's choice: a block
// holding a NaN or infinity gets d = NaN, q = 0, bsums = 0 (its products are NaN, as in
// float); a block so tiny that iscale overflows gets q = 0, d = 1/iscale = ±0 (what
// ggml's nearest_int yields there as well).
void quantize_activations_q8k(const float* x, int64_t n, int8_t* q, float* d, int16_t* bsums);

// The semantics of the fast Q4_K / Q6_K matmul (llama.cpp's vec_dot_q4_K_q8_K /
// q6_K_q8_K): every row of x quantized as above; per super-block the exact integer
// sums over the 16-element sub-blocks j, Q4_K: S1 = Σ_j sc_j·Σ q4·q8, S2 = Σ_j m_j·bsum_j,
// y += d_x·(d_w·S1 - dmin_w·S2); Q6_K: S = Σ_j sc_j·Σ (q6 - 32)·q8, y += d_x·d_w·S; in
// double. Same counting as matmul.
void matmul_qk(ExecContext& ctx, float* y, const float* x, const TensorView& w, int64_t T);
void add_bias(ExecContext& ctx, float* y, const float* bias, int64_t T, int64_t n);
void add_inplace(ExecContext& ctx, float* y, const float* x, int64_t n);
void rmsnorm(ExecContext& ctx, float* y, const float* x, const float* weight, int64_t T, int64_t C,
             float eps);
void rope(ExecContext& ctx, float* x, int64_t T, int64_t n_heads, int64_t head_dim, int64_t n_rot,
          const int32_t* positions, float base, RopeStyle style, const float* freq_factors = nullptr,
          float freq_scale = 1.0f);
void silu_mul(ExecContext& ctx, float* gate, const float* up, int64_t n);
void gelu_mul(ExecContext& ctx, float* gate, const float* up, int64_t n);
void scale_rows(ExecContext& ctx, float* y, int64_t n, float s);
void sigmoid_mul(ExecContext& ctx, float* y, const float* gate, int64_t n);
void softcap(ExecContext& ctx, float* y, int64_t n, float cap);
void embed(ExecContext& ctx, float* y, const TensorView& table, const int32_t* ids, int64_t T);
void attention(ExecContext& ctx, float* out, const float* q, const AttentionKeys* keys, int64_t T,
               const AttentionShape& shape);
void log_softmax(ExecContext& ctx, double* out, const float* logits, int64_t n);
void moe_route(ExecContext& ctx, int32_t* experts, float* weights, const float* logits, int64_t T, int64_t E,
               int64_t k, MoeGating gating = MoeGating::SoftmaxNormalized);
void add_scaled(ExecContext& ctx, float* y, const float* x, float w, int64_t n);

}  // namespace tenx::ref
