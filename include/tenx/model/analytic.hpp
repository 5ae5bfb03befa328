#pragma once
// The analytic compute model: what a forward pass must cost, from the
// configuration and the weights' storage types alone, with the same conventions
// as the kernels' counters (docs/flops.md). Tests require counted == analytic,
// exactly. It also serves models tenx does not run (remote engines).
#include <cstdint>
#include <span>
#include <vector>

#include "tenx/model/config.hpp"
#include "tenx/ops/counters.hpp"

namespace tenx {

struct Model;

struct LayerStorage {
  DType attn_norm = DType::F32, wq = DType::F32, wk = DType::F32, wv = DType::F32, wo = DType::F32;
  DType bias = DType::F32, ffn_norm = DType::F32, w_gate = DType::F32, w_up = DType::F32, w_down = DType::F32;
  DType qk_norm = DType::F32;
  DType post_norm = DType::F32;  // gemma3's post_attention_norm and post_ffw_norm
  DType attn_gate = DType::F32;  // muse-glimmer's attn_gate matrix
  DType router = DType::F32;     // moe: ffn_gate_inp (w_gate/w_up/w_down are then the expert tensors')
  DType shexp = DType::F32;      // llama4: the shared expert's three matrices
};

struct ModelSpec {
  ModelConfig config;
  DType token_embd = DType::F32, output_norm = DType::F32, output = DType::F32;
  DType rope_freqs = DType::F32;  // when config.rope_freq_factors is not empty
  std::vector<LayerStorage> layers;

  static ModelSpec of(const Model& model);
  // Every matrix in `matrices`, norms and biases F32 (what `tenx quantize` writes).
  static ModelSpec uniform(const ModelConfig& config, DType matrices);
  uint64_t weight_bytes() const;  // all tensors
  int64_t n_params() const;
  // Parameters one token runs through: a mixture's n_expert_used of n_expert experts.
  int64_t n_active_params() const;
};

// Counters of one Decoder::forward over tokens at the given positions (each
// token attends to pos+1 keys), n_logits of them producing logits. n_embedded of
// the tokens come with their input row (image patches): no embedding-table bytes.
// Mixture-of-experts layers: every token runs n_expert_used experts, so the FLOPs do not depend
// on the routing; the weight bytes do (each expert a forward runs is read once). experts_run,
// one count per layer (Decoder::experts_run of the forward), gives them exactly; empty: the
// expectation under uniform routing, E·(1 - (1 - k/E)^T) experts per layer, rounded (exact for
// one token: k). lookahead (empty, or one per position): the later positions each also attends to
// (BatchToken::lookahead, Gemma 3's image rows), counted as the kernels count them.
Counters analytic_forward(const ModelSpec& spec, std::span<const int64_t> positions, int64_t n_logits,
                          Phase phase, int64_t n_embedded = 0, std::span<const int64_t> experts_run = {},
                          std::span<const int32_t> lookahead = {});

// Counters of VisionProjector::project over n_patches patches: the [patch_dim -> n_embd]
// matmul (proj's bytes once), the bias add (its bytes once) and the position add (the rows read).
Counters analytic_vision_forward(int64_t patch_dim, int64_t n_embd, int64_t n_patches, Phase phase,
                                 DType proj = DType::F32, DType bias = DType::F32, DType pos = DType::F32);

// Counters of log_softmax over n rows of n_vocab logits.
Counters analytic_log_softmax(int64_t n_vocab, int64_t n_rows, Phase phase);

// FLOPs of one decode step at context length n_ctx (the token at position n_ctx-1).
uint64_t flops_per_token(const ModelSpec& spec, int64_t n_ctx);

// Positions of one sequence a layer's KV cache keeps (the Decoder's allocation): n_ctx for full
// attention. A sliding-window layer (window W) or a chunked one (chunk C, which reads at most C)
// keeps a ring of W + max_batch - 1: a query reads the last W positions, and one forward appends
// up to max_batch tokens before its queries read. Never more than n_ctx.
int64_t kv_positions_kept(const LayerConfig& layer, int64_t n_ctx, int64_t max_batch);

// Bytes of the F32 KV cache of one sequence of n_ctx positions, for a decoder taking up to
// max_batch tokens per forward (the Decoder's default 512): Σ over layers of the positions kept ·
// K and V · kv_dim floats.
uint64_t kv_cache_bytes(const ModelConfig& config, int64_t n_ctx, int64_t max_batch = 512);

}  // namespace tenx
