#pragma once
// The forward pass of a decoder described by ModelConfig (every family) over a batch of tokens that may
// belong to several independent sequences, each with its own KV cache (as a
// llama_batch does). The caller sets ctx.phase (prefill for prompts, decode for
// one generated token per sequence): the counters file the work under it.
#include <cstdint>
#include <span>
#include <vector>

#include "tenx/model/model.hpp"
#include "tenx/ops/context.hpp"
#include "tenx/ops/kernels.hpp"

namespace tenx {

struct BatchToken {
  int32_t id;
  int32_t pos;       // must equal the sequence's current length (tokens are appended in order)
  int32_t seq = 0;   // sequence index in [0, n_seq)
  bool logits = false;  // compute this token's next-token logits
  // When set: n_embd floats that replace the token's embedding (an image patch from
  // VisionProjector::project); no embedding-table row is read for it.
  const float* embedding = nullptr;
};

// llama4's attention temperature for the query at position pos (LayerConfig::attn_temperature).
float attention_temperature(const ModelConfig& c, int64_t pos);

class Decoder {
 public:
  // n_ctx: KV capacity per sequence; n_seq: independent sequences; max_batch:
  // largest batch forward() accepts (longer inputs are split by the helpers).
  Decoder(const Model& model, int64_t n_ctx, int64_t n_seq = 1, int64_t max_batch = 512);

  // Runs the batch; appends each token's K/V to its sequence. Returns the logits
  // of the tokens flagged `logits`, in batch order, as rows of n_vocab floats.
  std::span<const float> forward(ExecContext& ctx, std::span<const BatchToken> batch);

  // Convenience for one sequence: runs ids at positions seq_len(seq)..., in
  // chunks of max_batch; logits for every token (all=true) or the last only.
  // embeddings (empty, or one per id): a row replacing that token's embedding, nullptr = text.
  std::span<const float> eval(ExecContext& ctx, std::span<const int32_t> ids, int32_t seq = 0,
                              bool all_logits = false, std::span<const float* const> embeddings = {});

  int64_t seq_len(int32_t seq) const { return seq_len_.at(static_cast<size_t>(seq)); }
  // Forget the tokens of `seq` from position n on (n = 0 clears it). Used to
  // share a prefix: score a context once, then each continuation after it.
  void truncate(int32_t seq, int64_t n);
  // Copies the first n cached positions of `src` into `dst` (dst then has length n).
  void copy_prefix(int32_t src, int32_t dst, int64_t n);

  const Model& model() const { return model_; }
  int64_t n_ctx() const { return n_ctx_; }
  int64_t n_seq() const { return n_seq_; }
  int64_t max_batch() const { return max_batch_; }

  // Memory, in bytes.
  uint64_t kv_bytes_allocated() const;
  uint64_t kv_bytes_used() const;   // filled positions of all sequences
  uint64_t kv_bytes_peak() const { return kv_peak_; }  // all sequences together
  // The most one sequence held: what one item or request needs, whatever ran beside it.
  uint64_t kv_bytes_sequence_peak() const { return kv_sequence_peak_; }
  // Mixture of experts: the experts the router chose in `layer` during the last forward(), k
  // per token in batch order (descending weight); empty for a dense layer.
  std::span<const int32_t> routing(int64_t layer) const { return routing_.at(static_cast<size_t>(layer)); }
  // Per layer, how many distinct experts the last forward() ran (0 for dense layers): what
  // analytic_forward needs to reproduce its weight bytes exactly.
  std::vector<int64_t> experts_run() const;
  uint64_t working_bytes() const;   // activation buffers (and the logits last returned)
  // Activation buffers a decoder of this model allocates for max_batch tokens.
  static uint64_t working_bytes_for(const ModelConfig& c, int64_t max_batch);

 private:
  float* k_cache(int32_t seq, int64_t layer) { return kv_.data() + kv_offset(seq, layer, 0); }
  float* v_cache(int32_t seq, int64_t layer) { return kv_.data() + kv_offset(seq, layer, 1); }
  size_t kv_offset(int32_t seq, int64_t layer, int kind) const;
  // The blocks of forward(), in order.
  void embed_block(ExecContext& ctx, std::span<const BatchToken> batch);
  void attention_block(ExecContext& ctx, std::span<const BatchToken> batch, int64_t layer);
  void ffn_block(ExecContext& ctx, int64_t T, int64_t layer);
  void moe_ffn(ExecContext& ctx, int64_t T, int64_t layer);  // ffn_block's mixture of experts
  void shared_expert(ExecContext& ctx, int64_t T, int64_t layer);  // moe_ffn's always-run expert (llama4)
  std::span<const float> output_block(ExecContext& ctx, std::span<const BatchToken> batch, int64_t n_out);

  const Model& model_;
  int64_t n_ctx_, n_seq_, max_batch_;
  std::vector<float> kv_;  // [seq][layer][k|v][n_ctx][kv_dim]
  std::vector<int64_t> seq_len_;
  uint64_t kv_peak_ = 0, kv_sequence_peak_ = 0;
  // Working buffers for max_batch tokens.
  std::vector<float> x_, h_, q_, k_, v_, att_, gate_, up_, logits_;
  std::vector<float> att_gate_;  // muse-glimmer: W_gate h per token, [T, q_dim]
  std::vector<float> ones_;      // muse-glimmer: the embedding norm's (absent) weights
  std::vector<int32_t> ids_, pos_;
  // Mixture of experts: router scores [T, E], the chosen experts and their weights [T, k], the
  // (token, slot) pairs grouped by expert, one expert's gathered input and output rows, the sum.
  std::vector<float> router_, route_w_, xe_, ye_, y_slot_, moe_out_;  // y_slot_: [T·k, n_embd]
  std::vector<int32_t> route_e_, by_expert_;
  std::vector<int64_t> expert_start_;
  std::vector<std::vector<int32_t>> routing_;  // per layer, the last forward's route_e_
  std::vector<AttentionKeys> keys_;
};

}  // namespace tenx
