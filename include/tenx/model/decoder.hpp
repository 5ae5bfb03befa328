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
  // How many later positions of its sequence this token also sees (0: causal). Gemma 3's image rows
  // see their whole image, as llama.cpp decodes them with causal attention off
  // (mtmd_decode_use_non_causal): each row's lookahead reaches the image's last row. Those
  // positions must be in the same forward (whoever splits a feed keeps an image whole:
  // chunk_end_keeping_blocks). A sliding window still applies to the earlier keys.
  int32_t lookahead = 0;
};

// Where a chunk of positions [start, end) of one feed must end instead so it cuts no block of
// positions that see each other (lookahead, one per position of the feed; empty: all causal):
// end, or moved back to the first position of the block it would cut. start when the block
// begins at start (it does not fit).
int64_t chunk_end_keeping_blocks(std::span<const int32_t> lookahead, int64_t start, int64_t end);

// llama4's attention temperature for the query at position pos (LayerConfig::attn_temperature).
float attention_temperature(const ModelConfig& c, int64_t pos);

// What a sliding-window (or chunked) layer's KV cache keeps of a sequence.
enum class KvRetention {
  Window,  // the last W + max_batch - 1 positions, a ring (kv_positions_kept, analytic.hpp)
  Full,    // every position, as a full-attention layer (the path the ring is tested against)
};

class Decoder {
 public:
  // n_ctx: KV capacity per sequence; n_seq: independent sequences; max_batch:
  // largest batch forward() accepts (longer inputs are split by the helpers).
  Decoder(const Model& model, int64_t n_ctx, int64_t n_seq = 1, int64_t max_batch = 512,
          KvRetention retention = KvRetention::Window);

  // Runs the batch; appends each token's K/V to its sequence. Returns the logits
  // of the tokens flagged `logits`, in batch order, as rows of n_vocab floats.
  std::span<const float> forward(ExecContext& ctx, std::span<const BatchToken> batch);

  // Convenience for one sequence: runs ids at positions seq_len(seq)..., in
  // chunks of max_batch; logits for every token (all=true) or the last only.
  // embeddings (empty, or one per id): a row replacing that token's embedding, nullptr = text.
  // lookahead (empty, or one per id): BatchToken::lookahead; chunks never cut such a block.
  std::span<const float> eval(ExecContext& ctx, std::span<const int32_t> ids, int32_t seq = 0,
                              bool all_logits = false, std::span<const float* const> embeddings = {},
                              std::span<const int32_t> lookahead = {});

  int64_t seq_len(int32_t seq) const { return seq_len_.at(static_cast<size_t>(seq)); }
  // Forget the tokens of `seq` from position n on (n = 0 clears it). Used to
  // share a prefix: score a context once, then each continuation after it.
  // A sliding-window layer's ring holds the window plus max_batch positions, so going back more
  // than max_batch positions loses keys the next token needs: the decoder then recomputes the
  // sequence's first n tokens (kept for that) at its next forward(), in the same phase and counted
  // (the values are the same for float matrices, where a row's result does not depend on its batch).
  void truncate(int32_t seq, int64_t n);
  // Copies the first n cached positions of `src` into `dst` (dst then has length n; recomputed as
  // truncate() says when src's rings no longer hold what position n needs).
  void copy_prefix(int32_t src, int32_t dst, int64_t n);

  const Model& model() const { return model_; }
  int64_t n_ctx() const { return n_ctx_; }
  int64_t n_seq() const { return n_seq_; }
  int64_t max_batch() const { return max_batch_; }

  // Memory, in bytes (kv_cache_bytes and kv_positions_kept in analytic.hpp say the same).
  uint64_t kv_bytes_allocated() const;  // every layer's positions (not the 256-byte read guard)
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
  // A sequence's cache of one layer: K transposed in blocks of 64 slots (the layout attention
  // reads, CachedKeys), then V [capacity][kv_dim]; position p in slot p mod capacity.
  float* k_cache(int32_t seq, int64_t layer) { return kv_.data() + kv_offset(seq, layer); }
  float* v_cache(int32_t seq, int64_t layer) {
    return k_cache(seq, layer) + capacity_[static_cast<size_t>(layer)] * model_.config.kv_dim();
  }
  size_t kv_offset(int32_t seq, int64_t layer) const {
    return static_cast<size_t>(seq) * seq_floats_ + layer_offset_[static_cast<size_t>(layer)];
  }
  uint64_t kv_bytes_of(int64_t len) const;  // one sequence of len positions
  // The first position a query at `pos` reads in layer l (its window or chunk start; 0 = all).
  int64_t first_key(int64_t l, int64_t pos) const;
  // Every ring of `seq` still holds what the next token, at position n, reads.
  bool window_intact(int32_t seq, int64_t n) const;
  void replay(ExecContext& ctx, int32_t seq);  // recompute a sequence truncate() marked
  // The blocks of forward(), in order.
  void embed_block(ExecContext& ctx, std::span<const BatchToken> batch);
  void attention_block(ExecContext& ctx, std::span<const BatchToken> batch, int64_t layer);
  void ffn_block(ExecContext& ctx, int64_t T, int64_t layer);
  void moe_ffn(ExecContext& ctx, int64_t T, int64_t layer);  // ffn_block's mixture of experts
  void shared_expert(ExecContext& ctx, int64_t T, int64_t layer);  // moe_ffn's always-run expert (llama4)
  std::span<const float> output_block(ExecContext& ctx, std::span<const BatchToken> batch, int64_t n_out);

  const Model& model_;
  int64_t n_ctx_, n_seq_, max_batch_;
  std::vector<int64_t> capacity_;       // per layer: positions kept (n_ctx, or a ring)
  std::vector<size_t> layer_offset_;    // per layer: floats from a sequence's first layer
  size_t seq_floats_ = 0;               // one sequence, all layers
  std::vector<float> kv_;  // [seq][layer] caches, then kAttentionKeyGuard floats
  std::vector<int64_t> kept_from_;      // [seq][layer]: positions kept_from..len-1 are all in the ring
  bool rings_ = false;                  // some layer keeps fewer than n_ctx positions
  // Rings only: what truncate() may need to recompute, per sequence: token ids by position, the
  // rows given as embeddings, each position's lookahead, and the length to recompute before the
  // next token (-1: none).
  std::vector<std::vector<int32_t>> history_, history_lookahead_;
  std::vector<std::vector<std::pair<int64_t, std::vector<float>>>> history_rows_;
  std::vector<int64_t> replay_to_;
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
  std::vector<CachedKeys> keys_;
};

}  // namespace tenx
