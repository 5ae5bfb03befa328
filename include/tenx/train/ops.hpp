#pragma once
// The training kernels: a forward and a backward for every op of the llama
// decoder, llm.c style. Free functions, outputs first, dimensions last; row-major
// activations ([T, C]: T rows of C values); a weight is [OC, C] (row o holds the C
// inputs of output o, the ggml layout ne = {C, OC}).
//
// Conventions shared by every backward:
//  - it ACCUMULATES (+=) into the gradients of inputs and weights, so the caller
//    zeroes them once per step and residual branches simply add up;
//  - exception: rope_backward rotates its buffer in place (RoPE is a rotation,
//    its backward the inverse rotation of the incoming gradient).
//
// Templated on the scalar: float for training, double for the finite-difference
// gradient checks in tests/train (explicit instantiations in src/train/ops_*.cpp).
// Parallel work goes through ctx.pool; each output element is produced by exactly
// one task in a fixed order, so results do not depend on the thread count.
#include <cstdint>

#include "tenx/ops/context.hpp"

namespace tenx::train {

// out[T, C] = table[ids[t]] (table [V, C]).
template <class S>
void embedding_forward(S* out, const int32_t* ids, const S* table, int64_t T, int64_t C);
// dtable[ids[t]] += dout[t].
template <class S>
void embedding_backward(S* dtable, const S* dout, const int32_t* ids, int64_t T, int64_t C);

// out[T, C] = x * rstd * w with rstd[t] = 1 / sqrt(mean(x[t]²) + eps) (rstd cached).
template <class S>
void rmsnorm_forward(ExecContext& ctx, S* out, S* rstd, const S* x, const S* w, int64_t T, int64_t C, float eps);
template <class S>
void rmsnorm_backward(ExecContext& ctx, S* dx, S* dw, const S* dout, const S* x, const S* w, const S* rstd,
                      int64_t T, int64_t C);

// out[T, OC] = x[T, C] · wᵀ (w [OC, C]). In float these run on the core's register-tiled,
// per-CPU GEMM: the bits depend on the instruction set, never on the thread count.
template <class S>
void matmul_forward(ExecContext& ctx, S* out, const S* x, const S* w, int64_t T, int64_t C, int64_t OC);
// dx[T, C] += dout · w;  dw[OC, C] += doutᵀ · x.  dx may be null (the input needs no gradient).
template <class S>
void matmul_backward(ExecContext& ctx, S* dx, S* dw, const S* dout, const S* x, const S* w, int64_t T, int64_t C,
                     int64_t OC);
// The same products as plain loops (src/train/ops_matmul.cpp): the oracle the tests compare
// the fast float versions against, and what the double versions run.
template <class S>
void matmul_forward_reference(ExecContext& ctx, S* out, const S* x, const S* w, int64_t T, int64_t C, int64_t OC);
template <class S>
void matmul_backward_reference(ExecContext& ctx, S* dx, S* dw, const S* dout, const S* x, const S* w, int64_t T,
                               int64_t C, int64_t OC);

// Rotates pairs (2i, 2i+1) of every head of x[T, n_heads·head_dim] in place by
// theta = pos · base^(-2i/head_dim) (llama's "normal" RoPE, the angle computed by
// the same float formula as the core's kernels).
template <class S>
void rope_forward(ExecContext& ctx, S* x, const int32_t* pos, int64_t T, int64_t n_heads, int64_t head_dim,
                  float base);
// dx (gradient w.r.t. the rotated values) becomes the gradient w.r.t. the inputs.
template <class S>
void rope_backward(ExecContext& ctx, S* dx, const int32_t* pos, int64_t T, int64_t n_heads, int64_t head_dim,
                   float base);

// Causal attention within documents packed into B rows of L tokens: token i of a
// row attends to keys [doc_start[t], i] of the same row (doc_start is row-relative),
// so packed documents do not see each other. q [B·L, n_head·hd], k/v [B·L, n_head_kv·hd];
// probs [B, n_head, L, L] caches the softmax (entries outside the window are 0).
struct AttentionDims {
  int64_t n_head;
  int64_t n_head_kv;  // query head h reads K/V head h / (n_head / n_head_kv)
  int64_t head_dim;
};
template <class S>
void attention_forward(ExecContext& ctx, S* out, S* probs, const S* q, const S* k, const S* v,
                       const int32_t* doc_start, int64_t B, int64_t L, const AttentionDims& dims);
template <class S>
void attention_backward(ExecContext& ctx, S* dq, S* dk, S* dv, const S* dout, const S* probs, const S* q,
                        const S* k, const S* v, const int32_t* doc_start, int64_t B, int64_t L,
                        const AttentionDims& dims);

// out[n] = silu(gate) · up.
template <class S>
void swiglu_forward(ExecContext& ctx, S* out, const S* gate, const S* up, int64_t n);
template <class S>
void swiglu_backward(ExecContext& ctx, S* dgate, S* dup, const S* dout, const S* gate, const S* up, int64_t n);

// losses[t] = -log softmax(logits[t])[targets[t]] for rows with weight[t] != 0
// (0 elsewhere); logits [T, V].
template <class S>
void cross_entropy_forward(ExecContext& ctx, S* losses, const S* logits, const int32_t* targets, const S* weight,
                           int64_t T, int64_t V);
// dlogits[t] += dloss[t] · (softmax(logits[t]) - onehot(targets[t])).
template <class S>
void cross_entropy_backward(ExecContext& ctx, S* dlogits, const S* logits, const int32_t* targets, const S* dloss,
                            int64_t T, int64_t V);

// Distillation (Hinton et al. 2015): with p = softmax(teacher/τ) and q = softmax(logits/τ),
// losses[t] = τ² · KL(p ‖ q) for rows with weight[t] != 0. The τ² keeps the gradient's
// scale independent of τ when the loss is mixed with the cross-entropy.
template <class S>
void kl_distill_forward(ExecContext& ctx, S* losses, const S* logits, const float* teacher, const S* weight,
                        int64_t T, int64_t V, float temperature);
// dlogits[t] += dloss[t] · τ · (q - p).
template <class S>
void kl_distill_backward(ExecContext& ctx, S* dlogits, const S* logits, const float* teacher, const S* dloss,
                         int64_t T, int64_t V, float temperature);

}  // namespace tenx::train
