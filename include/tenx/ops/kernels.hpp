#pragma once
// The kernels of the decoder. Free functions, outputs first, row-major
// activations ([T, C]: T rows of C floats). Every kernel adds its FLOPs and the
// bytes it read to ctx.counters under ctx.phase (costs: counters.hpp,
// docs/flops.md). Scalar references of the same functions live in
// ops/reference.hpp and are the oracle of the tests.
#include <cstdint>
#include <span>

#include "tenx/ops/context.hpp"
#include "tenx/tensor/view.hpp"

namespace tenx {

// y[T, out] = x[T, in] · Wᵀ, W a 2-D weight with ne = {in, out} in any storage
// type. Counts 2·T·in·out matmul FLOPs and W's bytes once. Q8_0 and Q4_0 weights
// multiply activations quantized per 32-element block to 8 bits, Q4_K and Q6_K
// weights activations quantized per 256-element block (Q8_K), with integer dot
// products, as llama.cpp does (definitions: ref::matmul_q8, ref::matmul_qk);
// F32, F16 and BF16 weights in float.
void matmul(ExecContext& ctx, float* y, const float* x, const TensorView& w, int64_t T);

// One input, several weights (q/k/v, gate/up): outs[i].y = x · outs[i].wᵀ, every
// value and count exactly as separate matmul calls give them. In decode (T = 1 for
// F32/F16/BF16 and for Q4_K/Q6_K weights, T <= 3 for Q8_0/Q4_0) the row blocks of
// all the weights go to the pool in one dispatch, so the threads keep streaming
// weights from one matrix into the next instead of meeting at a barrier after
// each, and x is quantized once.
// Every weight must have the same row length.
struct MatmulOutput {
  float* y;
  const TensorView* w;
};
void matmul_shared_input(ExecContext& ctx, const float* x, int64_t T, std::span<const MatmulOutput> outs);

// The instruction set the kernels run with on this CPU ("avx512", "avx2", "generic")
// and the integer dot product of the quantized paths ("avx512-vnni", "avx2", "generic").
const char* kernel_isa_name();
const char* kernel_int8_name();

// y[T, n] += bias[n] (kAdd per element).
void add_bias(ExecContext& ctx, float* y, const float* bias, int64_t T, int64_t n);

// y[n] *= s (kScale per element): Gemma's embedding scale.
void scale_rows(ExecContext& ctx, float* y, int64_t n, float s);

// y[n] += x[n] (kAdd per element).
void add_inplace(ExecContext& ctx, float* y, const float* x, int64_t n);

// y[T, C] = x / sqrt(mean(x²) + eps) * weight, per row (kRmsNorm per element).
void rmsnorm(ExecContext& ctx, float* y, const float* x, const float* weight, int64_t T, int64_t C,
             float eps);

enum class RopeStyle { Normal, NeoX };  // llama: pairs (2i, 2i+1); qwen2: pairs (i, i + n_rot/2)

// Rotates the first n_rot dims of every head of x[T, n_heads·head_dim] in place,
// theta_i = pos · base^(-2i/n_rot) (kRope per rotated element). Scaled RoPE (Llama 3.x,
// "linear"): theta_i / freq_factors[i] · freq_scale, as ggml_rope_ext applies them;
// freq_factors (n_rot/2 divisors) may be null, and the plain formula is used when there are
// neither factors nor a scale, bit for bit.
void rope(ExecContext& ctx, float* x, int64_t T, int64_t n_heads, int64_t head_dim, int64_t n_rot,
          const int32_t* positions, float base, RopeStyle style, const float* freq_factors = nullptr,
          float freq_scale = 1.0f);

// gate[n] = silu(gate) · up (kSiluMul per element).
void silu_mul(ExecContext& ctx, float* gate, const float* up, int64_t n);

// gate[n] = gelu_tanh(gate) · up (kGeluMul per element): Gemma's GeGLU, the tanh
// approximation of GELU as ggml_gelu and Hugging Face's gelu_pytorch_tanh define it.
void gelu_mul(ExecContext& ctx, float* gate, const float* up, int64_t n);

// y[T, C] = (x - mean) / sqrt(var + eps) · weight + bias per row (mean and variance over the row,
// accumulated in double as ggml_norm does), then ggml_mul and ggml_add; weight and bias may be
// null (kLayerNorm per element either way). Vision encoders' LayerNorm; y may be x.
void layernorm(ExecContext& ctx, float* y, const float* x, const float* weight, const float* bias, int64_t T,
               int64_t C, float eps);

// y[n] = gelu(y) in place, ungated: Tanh is ggml_gelu's tanh approximation (kGelu per element),
// Quick is ggml_gelu_quick's x·sigmoid(1.702·x) (kGeluQuick per element), Erf is ggml_gelu_erf's
// exact x/2·(1+erf(x/√2)) (kGeluErf per element).
enum class GeluKind { Tanh, Quick, Erf };
void gelu(ExecContext& ctx, float* y, int64_t n, GeluKind kind);

// y[n] *= sigmoid(gate[n]) (kSigmoidMul per element): muse-glimmer's attention output gate,
// 1/(1+exp(-g)) in float as ggml_sigmoid.
void sigmoid_mul(ExecContext& ctx, float* y, const float* gate, int64_t n);

// y[n] = cap · tanh(y · (1/cap)) (kSoftcap per element): the logit soft-cap, in float as
// llama.cpp's ggml_scale(1/cap) -> ggml_tanh -> ggml_scale(cap).
void softcap(ExecContext& ctx, float* y, int64_t n, float cap);

// y[T, C] = rows ids[t] of the table (ne = {C, n_vocab}, any storage type).
// 0 FLOPs; counts the bytes of the rows read.
void embed(ExecContext& ctx, float* y, const TensorView& table, const int32_t* ids, int64_t T);

struct AttentionShape {
  int64_t n_head;
  int64_t n_head_kv;  // query head h reads K/V head h / (n_head / n_head_kv)
  int64_t head_dim;
  float scale = 0.0f;  // of the scores q·k; 0: 1/sqrt(head_dim) (Gemma: 1/sqrt(query_pre_attn_scalar))
  float softcap = 0.0f;  // > 0: scaled scores become softcap·tanh(s/softcap) before the softmax (gemma2)
};

// Keys and values a query attends to: rows 0..n_keys-1 of k and v, each row
// kv_dim = n_head_kv·head_dim floats (one sequence's KV cache for one layer).
struct AttentionKeys {
  const float* k;
  const float* v;
  int64_t n_keys;
};

// out[t] = softmax(q[t]·Kᵀ · scale) · V (scale 1/sqrt(head_dim) unless shape.scale) per head, for T queries, each
// over its own keys (so a batch may mix sequences). Counts 4·n_keys·head_dim·n_head
// attention FLOPs, (kScale + kSoftmax)·n_keys·n_head other FLOPs and 2·n_keys·kv_dim·4
// KV bytes read per query.
void attention(ExecContext& ctx, float* out, const float* q, const AttentionKeys* keys, int64_t T,
               const AttentionShape& shape);

// One sequence's KV cache of one layer in the layout decode reads without reshaping it (the
// decoder's). A position p lives in slot p mod capacity (a ring: a sliding-window layer keeps
// only the slots it can read). K is transposed in blocks of kAttentionKeyBlock slots: block b
// (slots 64b .. 64b + w - 1, w = min(64, capacity - 64b)) starts at kt + 64b·kv_dim and holds
// dimension i of slot 64b + o at [i·w + o], so the keys a query tile reads are close together
// whatever the capacity. V is row-major, v[slot·kv_dim ..]. The query reads the n_keys positions
// first, first + 1, ... (they may wrap around the ring's end). The buffer holding kt must have
// kAttentionKeyGuard readable floats after it (V, or padding): the kernel scores whole tiles of
// keys and ignores those beyond n_keys.
struct CachedKeys {
  const float* kt;
  const float* v;
  int64_t capacity;
  int64_t first;  // position of the first key (its slot: first mod capacity)
  int64_t n_keys;
};
inline constexpr int64_t kAttentionKeyBlock = 64;
inline constexpr int64_t kAttentionKeyGuard = 64;

// attention() over keys in the cache layout: the same values bit for bit as attention() over the
// same keys stored as rows (each score is the same chain of multiply-adds, each output the same
// sum in key order), with no per-call transposition of the keys. Counts as attention().
void attention_cached(ExecContext& ctx, float* out, const float* q, const CachedKeys* keys, int64_t T,
                      const AttentionShape& shape);

// Mixture-of-experts routing of T tokens over E experts (llama.cpp's build_moe_ffn with a
// softmax gate and norm_w): p = softmax(logits[t]) in float, the k largest (ties: the lower
// expert) written to experts[t·k..] in descending order, and weights[t·k + j] = p_j / max(Σ
// chosen p, 6.103515625e-5) (ggml's clamp against a zero sum). Counts kSoftmax per score and
// kMoeNorm per chosen expert.
// MoeGating::Sigmoid (llama4): the k largest raw scores (ties: the lower expert), each weighted
// sigmoid(score) = 1/(1+exp(-score)) in float as ggml_sigmoid, not renormalised; counts
// kMoeSigmoid per chosen expert (only those are computed).
enum class MoeGating { SoftmaxNormalized, Sigmoid };
void moe_route(ExecContext& ctx, int32_t* experts, float* weights, const float* logits, int64_t T, int64_t E,
               int64_t k, MoeGating gating = MoeGating::SoftmaxNormalized);

// y[n] += w · x[n] (kMoeCombine per element): one chosen expert's output into a token's sum.
void add_scaled(ExecContext& ctx, float* y, const float* x, float w, int64_t n);

// out[n] = log_softmax(logits) in double precision (kLogSoftmax per element).
void log_softmax(ExecContext& ctx, double* out, const float* logits, int64_t n);

}  // namespace tenx
