#include "tenx/model/decoder.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "tenx/model/analytic.hpp"
#include "tenx/ops/kernels.hpp"
#include "tenx/util/error.hpp"

namespace tenx {

namespace {

// Floats of each FFN activation buffer (gate_, up_): a dense FFN's rows, or an expert's rows for the
// whole batch, or one token's k experts side by side (moe_ffn's decode path).
uint64_t ffn_floats(const ModelConfig& c, int64_t max_batch) {
  return std::max<uint64_t>(static_cast<uint64_t>(max_batch) * std::max(c.n_ff, c.n_ff_exp),
                            static_cast<uint64_t>(c.n_expert_used * c.n_ff_exp));
}

}  // namespace

int64_t chunk_end_keeping_blocks(std::span<const int32_t> lookahead, int64_t start, int64_t end) {
  // The feed's last position ends every block (one reaching further is refused by forward()).
  if (lookahead.empty() || end >= static_cast<int64_t>(lookahead.size())) return end;
  // Position c - 1 sees c: the cut is inside its block; every earlier row of the block sees c too.
  while (end > start && end - 1 + lookahead[static_cast<size_t>(end - 1)] >= end) --end;
  return end;
}

float attention_temperature(const ModelConfig& c, int64_t pos) {
  // As llama.cpp's llm_graph_input_attn_temp: the position in float, the floor in float, the
  // logarithm in double, the factor stored as float.
  const float p = static_cast<float>(pos);
  const float floor_pos = std::floor((p + c.attn_temp_offset) / static_cast<float>(c.attn_temp_floor));
  return static_cast<float>(std::log(floor_pos + 1.0) * c.attn_temp_scale + 1.0);
}

Decoder::Decoder(const Model& model, int64_t n_ctx, int64_t n_seq, int64_t max_batch, KvRetention retention)
    : model_(model), n_ctx_(n_ctx), n_seq_(n_seq), max_batch_(max_batch) {
  const ModelConfig& c = model.config;
  if (n_ctx <= 0 || n_seq <= 0 || max_batch <= 0)
    throw Error("decoder", "context, sequence count and batch size must be positive");
  for (int64_t l = 0; l < c.n_layer; ++l) {
    const int64_t kept = retention == KvRetention::Full ? n_ctx : kv_positions_kept(c.layer(l), n_ctx, max_batch);
    rings_ = rings_ || kept < n_ctx;
    capacity_.push_back(kept);
    layer_offset_.push_back(seq_floats_);
    seq_floats_ += static_cast<size_t>(2 * kept * c.kv_dim());
  }
  // The guard: attention scores whole tiles of keys and reads (ignores) up to 64 floats past a
  // layer's last K row.
  kv_.assign(static_cast<size_t>(n_seq) * seq_floats_ + kAttentionKeyGuard, 0.0f);
  kept_from_.assign(static_cast<size_t>(n_seq * c.n_layer), 0);
  if (rings_) {
    history_.assign(static_cast<size_t>(n_seq), std::vector<int32_t>(static_cast<size_t>(n_ctx), 0));
    history_lookahead_ = history_;
    history_rows_.resize(static_cast<size_t>(n_seq));
  }
  replay_to_.assign(static_cast<size_t>(n_seq), -1);
  seq_len_.assign(static_cast<size_t>(n_seq), 0);
  const auto B = static_cast<size_t>(max_batch);
  x_.resize(B * c.n_embd);
  h_.resize(B * std::max<uint64_t>(c.n_embd, c.q_dim()));
  q_.resize(B * c.q_dim());
  k_.resize(B * c.kv_dim());
  v_.resize(B * c.kv_dim());
  att_.resize(B * c.q_dim());
  bool gated = false;
  for (const LayerConfig& lc : c.layers) gated = gated || lc.attn_gate;
  if (gated) att_gate_.resize(B * c.q_dim());
  bool l2 = false;
  for (const LayerConfig& lc : c.layers) l2 = l2 || lc.qk_l2_norm;
  if (c.embd_norm || l2) ones_.assign(static_cast<size_t>(std::max(c.n_embd, c.head_dim)), 1.0f);
  gate_.resize(ffn_floats(c, max_batch));
  up_.resize(ffn_floats(c, max_batch));
  routing_.resize(static_cast<size_t>(c.n_layer));
  if (c.n_expert > 0) {
    router_.resize(B * c.n_expert);
    route_w_.resize(B * c.n_expert_used);
    route_e_.resize(B * c.n_expert_used);
    by_expert_.resize(B * c.n_expert_used);
    expert_start_.resize(static_cast<size_t>(c.n_expert + 1));
    xe_.resize(std::max<size_t>(B, static_cast<size_t>(c.n_expert_used)) * c.n_embd);  // decode: k rows
    ye_.resize(B * c.n_embd);
    y_slot_.resize(B * c.n_expert_used * c.n_embd);
    moe_out_.resize(B * c.n_embd);
  }
  ids_.resize(B);
  pos_.resize(B);
  keys_.resize(B);
}

uint64_t Decoder::kv_bytes_allocated() const { return (kv_.size() - kAttentionKeyGuard) * sizeof(float); }

uint64_t Decoder::kv_bytes_of(int64_t len) const {
  uint64_t positions = 0;
  for (int64_t cap : capacity_) positions += static_cast<uint64_t>(std::min(len, cap));
  return positions * 2 * static_cast<uint64_t>(model_.config.kv_dim()) * sizeof(float);
}

uint64_t Decoder::kv_bytes_used() const {
  uint64_t used = 0;
  for (int64_t n : seq_len_) used += kv_bytes_of(n);
  return used;
}

int64_t Decoder::first_key(int64_t l, int64_t pos) const {
  // A local layer's query sees the last sliding_window positions only (itself included).
  // A chunked layer's query sees its own chunk of positions only (llama4).
  const LayerConfig& lc = model_.config.layer(l);
  return lc.sliding_window > 0 ? std::max<int64_t>(0, pos + 1 - lc.sliding_window)
         : lc.attn_chunk > 0   ? pos / lc.attn_chunk * lc.attn_chunk
                               : 0;
}

bool Decoder::window_intact(int32_t seq, int64_t n) const {
  for (int64_t l = 0; l < model_.config.n_layer; ++l)
    if (first_key(l, n) < kept_from_[static_cast<size_t>(seq * model_.config.n_layer + l)]) return false;
  return true;
}

uint64_t Decoder::working_bytes_for(const ModelConfig& c, int64_t max_batch) {
  const auto B = static_cast<uint64_t>(max_batch);
  const uint64_t floats = B * (c.n_embd + std::max<uint64_t>(c.n_embd, c.q_dim()) + 2 * c.q_dim() +
                               2 * c.kv_dim()) + 2 * ffn_floats(c, max_batch);
  uint64_t moe = 0;  // router scores, weights, expert ids, grouping, gathered/output/sum rows
  if (c.n_expert > 0)
    moe = (B * (c.n_expert + c.n_expert_used + 2 * c.n_embd + c.n_expert_used * c.n_embd) +
           std::max<uint64_t>(B, c.n_expert_used) * c.n_embd) * sizeof(float) +
          B * 2 * c.n_expert_used * sizeof(int32_t) + static_cast<uint64_t>(c.n_expert + 1) * sizeof(int64_t);
  return floats * sizeof(float) + moe + B * (2 * sizeof(int32_t) + sizeof(CachedKeys));
}

uint64_t Decoder::working_bytes() const {
  return working_bytes_for(model_.config, max_batch_) + logits_.capacity() * sizeof(float);
}

void Decoder::truncate(int32_t seq, int64_t n) {
  int64_t& len = seq_len_.at(static_cast<size_t>(seq));
  len = std::clamp<int64_t>(n, 0, len);
  const auto s = static_cast<size_t>(seq);
  if (len == 0) {  // nothing left to read: the rings start afresh
    std::fill_n(kept_from_.begin() + seq * model_.config.n_layer, model_.config.n_layer, 0);
    replay_to_[s] = -1;
  } else if (replay_to_[s] >= 0 || !window_intact(seq, len)) {
    replay_to_[s] = len;
  }
  if (rings_) std::erase_if(history_rows_[s], [&](const auto& row) { return row.first >= len; });
}

void Decoder::copy_prefix(int32_t src, int32_t dst, int64_t n) {
  if (n > seq_len(src)) throw Error("decoder", "copy_prefix beyond the source sequence");
  if (src == dst) return truncate(dst, n);
  const ModelConfig& c = model_.config;
  const auto s = static_cast<size_t>(src), d = static_cast<size_t>(dst);
  if (rings_) {
    std::copy_n(history_[s].begin(), n, history_[d].begin());
    std::copy_n(history_lookahead_[s].begin(), n, history_lookahead_[d].begin());
    history_rows_[d].clear();
    for (const auto& row : history_rows_[s])
      if (row.first < n) history_rows_[d].push_back(row);
  }
  seq_len_[d] = n;
  std::fill_n(kept_from_.begin() + dst * c.n_layer, c.n_layer, 0);
  replay_to_[d] = -1;
  if (n == 0) return;
  if (replay_to_[s] >= 0 || !window_intact(src, n)) {
    replay_to_[d] = n;
    return;
  }
  const int64_t kvd = c.kv_dim();
  for (int64_t l = 0; l < c.n_layer; ++l) {
    const int64_t cap = capacity_[static_cast<size_t>(l)];
    if (n >= cap) {  // the whole ring (slots of positions >= n are never read before rewritten)
      std::memcpy(k_cache(dst, l), k_cache(src, l), static_cast<size_t>(2 * cap * kvd) * sizeof(float));
    } else {  // positions 0..n-1 are slots 0..n-1: K's blocks up to n's, V's first n rows
      const int64_t blocks_end = std::min(cap, (n + kAttentionKeyBlock - 1) / kAttentionKeyBlock * kAttentionKeyBlock);
      std::memcpy(k_cache(dst, l), k_cache(src, l), static_cast<size_t>(blocks_end * kvd) * sizeof(float));
      std::memcpy(v_cache(dst, l), v_cache(src, l), static_cast<size_t>(n * kvd) * sizeof(float));
    }
  }
  std::copy_n(kept_from_.begin() + src * c.n_layer, c.n_layer, kept_from_.begin() + dst * c.n_layer);
}

// Recomputes the first replay_to_[seq] tokens of seq from its history, alone, in max_batch chunks.
void Decoder::replay(ExecContext& ctx, int32_t seq) {
  const auto s = static_cast<size_t>(seq);
  const int64_t n = replay_to_[s];
  replay_to_[s] = -1;
  seq_len_[s] = 0;
  std::fill_n(kept_from_.begin() + seq * model_.config.n_layer, model_.config.n_layer, 0);
  const std::vector<std::pair<int64_t, std::vector<float>>> rows = history_rows_[s];  // forward() re-adds them
  history_rows_[s].clear();
  // A block cut by the truncation sees only what is left of it.
  std::vector<int32_t> lookahead(history_lookahead_[s].begin(), history_lookahead_[s].begin() + n);
  for (int64_t p = 0; p < n; ++p)
    lookahead[static_cast<size_t>(p)] = static_cast<int32_t>(std::min<int64_t>(lookahead[static_cast<size_t>(p)], n - 1 - p));
  std::vector<BatchToken> batch;
  size_t next_row = 0;
  for (int64_t start = 0, end = 0; start < n; start = end) {
    end = chunk_end_keeping_blocks(lookahead, start, std::min(n, start + max_batch_));
    batch.clear();
    for (int64_t p = start; p < end; ++p) {
      const float* row = nullptr;
      if (next_row < rows.size() && rows[next_row].first == p) row = rows[next_row++].second.data();
      batch.push_back({history_[s][static_cast<size_t>(p)], static_cast<int32_t>(p), seq, false, row,
                       lookahead[static_cast<size_t>(p)]});
    }
    forward(ctx, batch);
  }
}

std::span<const float> Decoder::forward(ExecContext& ctx, std::span<const BatchToken> batch) {
  const ModelConfig& c = model_.config;
  const int64_t T = static_cast<int64_t>(batch.size());
  if (T == 0) return {};
  if (T > max_batch_) throw Error("decoder", fmt::format("batch of {} tokens exceeds max_batch {}", T, max_batch_));
  for (const BatchToken& b : batch)  // sequences truncate() sent back further than their rings hold
    if (b.seq >= 0 && b.seq < n_seq_ && replay_to_[static_cast<size_t>(b.seq)] >= 0) replay(ctx, b.seq);

  // Validate the whole batch before touching any state.
  std::vector<int64_t> next = seq_len_;
  int64_t n_out = 0;
  for (int64_t t = 0; t < T; ++t) {
    const BatchToken& b = batch[static_cast<size_t>(t)];
    if (b.seq < 0 || b.seq >= n_seq_) throw Error("decoder", fmt::format("sequence {} out of range", b.seq));
    if (b.id < 0 || b.id >= c.n_vocab)
      throw Error("decoder", fmt::format("token id {} out of range [0, {})", b.id, c.n_vocab));
    int64_t& len = next[static_cast<size_t>(b.seq)];
    if (b.pos != len)
      throw Error("decoder", fmt::format("token at position {} given to sequence {} of length {}", b.pos, b.seq, len));
    if (len >= n_ctx_) throw Error("decoder", fmt::format("context full ({} tokens)", n_ctx_));
    ++len;
    ids_[static_cast<size_t>(t)] = b.id;
    pos_[static_cast<size_t>(t)] = b.pos;
    n_out += b.logits ? 1 : 0;
  }
  for (const BatchToken& b : batch)  // the positions a token sees ahead are in this forward
    if (b.lookahead < 0 || b.pos + int64_t{b.lookahead} >= next[static_cast<size_t>(b.seq)])
      throw Error("decoder", fmt::format("token at position {} of sequence {} sees {} positions ahead, beyond the "
                                         "{} this forward leaves it: a block of positions that see each other "
                                         "(an image's rows) must be in one forward",
                                         b.pos, b.seq, b.lookahead, next[static_cast<size_t>(b.seq)]));

  ctx.counters.tokens[int(ctx.phase)] += static_cast<uint64_t>(T);
  // The model is a sequence of named blocks; what each computes comes from the layer's
  // description (config.hpp), so there is one decoder for every family.
  embed_block(ctx, batch);
  for (int64_t l = 0; l < c.n_layer; ++l) {
    attention_block(ctx, batch, l);
    ffn_block(ctx, T, l);
  }
  seq_len_ = next;
  if (rings_)
    for (const BatchToken& b : batch) {
      history_[static_cast<size_t>(b.seq)][static_cast<size_t>(b.pos)] = b.id;
      history_lookahead_[static_cast<size_t>(b.seq)][static_cast<size_t>(b.pos)] = b.lookahead;
      if (b.embedding)
        history_rows_[static_cast<size_t>(b.seq)].emplace_back(b.pos, std::vector<float>(b.embedding, b.embedding + c.n_embd));
    }
  uint64_t used = 0, longest = 0;
  for (int64_t n : seq_len_) {
    used += kv_bytes_of(n);
    longest = std::max(longest, kv_bytes_of(n));
  }
  kv_peak_ = std::max<uint64_t>(kv_peak_, used);
  kv_sequence_peak_ = std::max<uint64_t>(kv_sequence_peak_, longest);
  if (n_out == 0) return {};
  return output_block(ctx, batch, n_out);
}

// Token embeddings, except where the batch gives the row (image patches): runs of text tokens
// go through embed, so only their table rows are counted. muse-glimmer's input norm applies to
// given rows too (llama.cpp's muse-glimmer.cpp norms every input row; gemma's scale is for tokens only).
void Decoder::embed_block(ExecContext& ctx, std::span<const BatchToken> batch) {
  const int64_t T = static_cast<int64_t>(batch.size()), d = model_.config.n_embd;
  for (int64_t t = 0; t < T;) {
    if (const float* row = batch[static_cast<size_t>(t)].embedding) {
      std::memcpy(x_.data() + t * d, row, static_cast<size_t>(d) * sizeof(float));
      if (model_.config.embd_norm) rmsnorm(ctx, x_.data() + t * d, x_.data() + t * d, ones_.data(), 1, d, model_.config.rms_eps);
      ++t;
      continue;
    }
    int64_t n = 1;
    while (t + n < T && !batch[static_cast<size_t>(t + n)].embedding) ++n;
    embed(ctx, x_.data() + t * d, *model_.token_embd, ids_.data() + t, n);
    if (model_.config.embd_scale) scale_rows(ctx, x_.data() + t * d, n * d, std::sqrt(static_cast<float>(d)));
    // muse-glimmer: an RMS norm without weights (a weight of 1 is exact; counted as kRmsNorm).
    if (model_.config.embd_norm) rmsnorm(ctx, x_.data() + t * d, x_.data() + t * d, ones_.data(), n, d, model_.config.rms_eps);
    t += n;
  }
}

// x += Wo · attention(rope(norm_qk(Wq h + bq)), rope(norm_qk(Wk h + bk)), Wv h + bv), h = rms(x).
void Decoder::attention_block(ExecContext& ctx, std::span<const BatchToken> batch, int64_t l) {
  const ModelConfig& c = model_.config;
  const LayerConfig& lc = c.layer(l);
  const LayerWeights& L = model_.layers[static_cast<size_t>(l)];
  const Phase ph = ctx.phase;
  Counters& cnt = ctx.counters;
  const int64_t T = static_cast<int64_t>(batch.size()), d = c.n_embd, qd = c.q_dim(), kvd = c.kv_dim();
  cnt.add_weight_bytes(ph, L.attn_norm->type, L.attn_norm->nbytes);
  rmsnorm(ctx, h_.data(), x_.data(), L.attn_norm_f32.data(), T, d, c.rms_eps);
  // muse-glimmer's gate reads the same normed input as q, k and v.
  const MatmulOutput qkv[] = {{q_.data(), L.wq}, {k_.data(), L.wk}, {v_.data(), L.wv}, {att_gate_.data(), L.attn_gate}};
  matmul_shared_input(ctx, h_.data(), T, std::span<const MatmulOutput>(qkv, lc.attn_gate ? 4 : 3));
  if (lc.qkv_bias) {
    for (const TensorView* b : {L.bq, L.bk, L.bv}) cnt.add_weight_bytes(ph, b->type, b->nbytes);
    add_bias(ctx, q_.data(), L.bq_f32.data(), T, qd);
    add_bias(ctx, k_.data(), L.bk_f32.data(), T, kvd);
    add_bias(ctx, v_.data(), L.bv_f32.data(), T, kvd);
  }
  if (lc.qk_norm) {  // every head is a row of head_dim (rmsnorm may run in place)
    for (const TensorView* n : {L.q_norm, L.k_norm}) cnt.add_weight_bytes(ph, n->type, n->nbytes);
    rmsnorm(ctx, q_.data(), q_.data(), L.q_norm_f32.data(), T * c.n_head, c.head_dim, c.rms_eps);
    rmsnorm(ctx, k_.data(), k_.data(), L.k_norm_f32.data(), T * c.n_head_kv, c.head_dim, c.rms_eps);
  }
  const float* factors = c.rope_freq_factors.empty() ? nullptr : c.rope_freq_factors.data();
  if (model_.rope_freqs && lc.rope) cnt.add_weight_bytes(ph, model_.rope_freqs->type, model_.rope_freqs->nbytes);  // each layer reads it
  if (lc.rope) {  // NoPE layers (muse-glimmer's global ones) keep q and k as they are
    rope(ctx, q_.data(), T, c.n_head, c.head_dim, c.n_rot, pos_.data(), lc.rope_base, lc.rope_style, factors,
         lc.rope_freq_scale);
    rope(ctx, k_.data(), T, c.n_head_kv, c.head_dim, c.n_rot, pos_.data(), lc.rope_base, lc.rope_style, factors,
         lc.rope_freq_scale);
  }
  if (lc.attn_temperature)  // llama4's NoPE layers: q times a factor of its position
    for (int64_t t = 0; t < T; ++t) scale_rows(ctx, q_.data() + t * qd, qd, attention_temperature(c, pos_[static_cast<size_t>(t)]));
  if (lc.qk_l2_norm) {  // llama4: per head, after RoPE, no weights (a weight of 1 is exact)
    rmsnorm(ctx, q_.data(), q_.data(), ones_.data(), T * c.n_head, c.head_dim, c.rms_eps);
    rmsnorm(ctx, k_.data(), k_.data(), ones_.data(), T * c.n_head_kv, c.head_dim, c.rms_eps);
  }
  // Append K/V to the caches first, so a token attends to the earlier tokens of its own batch
  // too (causality comes from n_keys = pos + 1; an image row's lookahead adds the rest of its
  // image, in this batch by forward()'s check). K goes in transposed, as attention reads it.
  // A ring of W + max_batch - 1 still holds every key: the batch's first query reads from its
  // pos + 1 - W, the last key written is at most max_batch - 1 positions after that query.
  const int64_t cap = capacity_[static_cast<size_t>(l)];
  for (int64_t t = 0; t < T; ++t) {
    const BatchToken& b = batch[static_cast<size_t>(t)];
    const int64_t slot = b.pos % cap, block = slot / kAttentionKeyBlock, off = slot % kAttentionKeyBlock;
    const int64_t width = std::min(kAttentionKeyBlock, cap - block * kAttentionKeyBlock);
    float* kt = k_cache(b.seq, l) + block * kAttentionKeyBlock * kvd + off;
    const float* kr = k_.data() + t * kvd;
    for (int64_t i = 0; i < kvd; ++i) kt[i * width] = kr[i];
    std::memcpy(v_cache(b.seq, l) + slot * kvd, v_.data() + t * kvd, static_cast<size_t>(kvd) * sizeof(float));
    int64_t& kept_from = kept_from_[static_cast<size_t>(b.seq * c.n_layer + l)];
    kept_from = std::max<int64_t>(kept_from, b.pos + 1 - cap);  // the write evicted position pos - cap
  }
  for (int64_t t = 0; t < T; ++t) {
    const BatchToken& b = batch[static_cast<size_t>(t)];
    const int64_t first = first_key(l, b.pos);
    keys_[static_cast<size_t>(t)] = {k_cache(b.seq, l), v_cache(b.seq, l), cap, first, b.pos + 1 + b.lookahead - first};
  }
  cnt.kv_bytes_written[int(ph)] += static_cast<uint64_t>(T * 2 * kvd) * sizeof(float);
  attention_cached(ctx, att_.data(), q_.data(), keys_.data(), T,
                   AttentionShape{c.n_head, c.n_head_kv, c.head_dim, c.attn_scale, c.attn_softcap});
  if (lc.attn_gate) sigmoid_mul(ctx, att_.data(), att_gate_.data(), T * qd);
  matmul(ctx, h_.data(), att_.data(), *L.wo, T);
  if (lc.sandwich_norm) {
    cnt.add_weight_bytes(ph, L.attn_post_norm->type, L.attn_post_norm->nbytes);
    rmsnorm(ctx, h_.data(), h_.data(), L.attn_post_norm_f32.data(), T, d, lc.post_norm_eps > 0 ? lc.post_norm_eps : c.rms_eps);
  }
  add_inplace(ctx, x_.data(), h_.data(), T * d);
}

std::vector<int64_t> Decoder::experts_run() const {
  std::vector<int64_t> out;
  for (const std::vector<int32_t>& r : routing_) {
    std::vector<bool> seen(static_cast<size_t>(model_.config.n_expert), false);
    int64_t n = 0;
    for (int32_t e : r) n += seen[static_cast<size_t>(e)] ? 0 : (seen[static_cast<size_t>(e)] = true, 1);
    out.push_back(n);
  }
  return out;
}

// x += Σ_j w_j · W_down,e_j (silu(W_gate,e_j h) * W_up,e_j h) over the k experts e_j the router
// chose for each token, h = rms(x) (in h_). The batch's (token, slot) pairs are grouped by
// expert, so each chosen expert runs once, on the existing matmul kernels, over exactly the rows
// routed to it (a decode step: k experts of one row each); unchosen experts are never read.
void Decoder::moe_ffn(ExecContext& ctx, int64_t T, int64_t l) {
  const ModelConfig& c = model_.config;
  const LayerWeights& L = model_.layers[static_cast<size_t>(l)];
  const int64_t d = c.n_embd, E = c.n_expert, K = c.n_expert_used, fe = c.n_ff_exp;
  matmul(ctx, router_.data(), h_.data(), *L.router, T);
  const LayerConfig& lc = c.layer(l);
  moe_route(ctx, route_e_.data(), route_w_.data(), router_.data(), T, E, K,
            lc.moe_sigmoid_input ? MoeGating::Sigmoid : MoeGating::SoftmaxNormalized);
  routing_[static_cast<size_t>(l)].assign(route_e_.begin(), route_e_.begin() + T * K);
  if (T == 1) {  // decode: the k experts share the one input row, so their 2k gate/up matmuls go
                 // to the pool in one dispatch (same values and counts as k separate calls)
    std::vector<MatmulOutput> gate_up;
    for (int64_t j = 0; j < K; ++j) {
      const auto e = static_cast<size_t>(route_e_[static_cast<size_t>(j)]);
      gate_up.push_back({gate_.data() + j * fe, &L.gate_exps[e]});
      gate_up.push_back({up_.data() + j * fe, &L.up_exps[e]});
    }
    if (lc.moe_sigmoid_input) {  // llama4: expert j reads h · w_j, so each pair has its own input
      for (int64_t j = 0; j < K; ++j) {
        std::memcpy(xe_.data() + j * d, h_.data(), static_cast<size_t>(d) * sizeof(float));
        scale_rows(ctx, xe_.data() + j * d, d, route_w_[static_cast<size_t>(j)]);
        matmul_shared_input(ctx, xe_.data() + j * d, 1, std::span<const MatmulOutput>(gate_up.data() + 2 * j, 2));
      }
    } else {
      matmul_shared_input(ctx, h_.data(), 1, gate_up);
    }
    silu_mul(ctx, gate_.data(), up_.data(), K * fe);
    std::fill(moe_out_.begin(), moe_out_.begin() + d, 0.0f);
    for (int64_t j = 0; j < K; ++j) {
      matmul(ctx, ye_.data(), gate_.data() + j * fe, L.down_exps[static_cast<size_t>(route_e_[static_cast<size_t>(j)])], 1);
      if (lc.moe_sigmoid_input) add_inplace(ctx, moe_out_.data(), ye_.data(), d);
      else add_scaled(ctx, moe_out_.data(), ye_.data(), route_w_[static_cast<size_t>(j)], d);
    }
    shared_expert(ctx, 1, l);
    add_inplace(ctx, x_.data(), moe_out_.data(), d);
    return;
  }
  // Counting sort of the T·k slots by expert (slots of one expert stay in token order).
  std::fill(expert_start_.begin(), expert_start_.end(), 0);
  for (int64_t s = 0; s < T * K; ++s) ++expert_start_[static_cast<size_t>(route_e_[static_cast<size_t>(s)]) + 1];
  for (int64_t e = 0; e < E; ++e) expert_start_[static_cast<size_t>(e + 1)] += expert_start_[static_cast<size_t>(e)];
  std::vector<int64_t> fill(expert_start_.begin(), expert_start_.end() - 1);
  for (int64_t s = 0; s < T * K; ++s)
    by_expert_[static_cast<size_t>(fill[static_cast<size_t>(route_e_[static_cast<size_t>(s)])]++)] = static_cast<int32_t>(s);
  std::fill(moe_out_.begin(), moe_out_.begin() + T * d, 0.0f);
  for (int64_t e = 0; e < E; ++e) {
    const int64_t first = expert_start_[static_cast<size_t>(e)], n = expert_start_[static_cast<size_t>(e + 1)] - first;
    if (n == 0) continue;
    for (int64_t i = 0; i < n; ++i) {
      const int32_t slot = by_expert_[static_cast<size_t>(first + i)];
      std::memcpy(xe_.data() + i * d, h_.data() + (slot / K) * d, static_cast<size_t>(d) * sizeof(float));
      if (lc.moe_sigmoid_input) scale_rows(ctx, xe_.data() + i * d, d, route_w_[static_cast<size_t>(slot)]);
    }
    const MatmulOutput gate_up[] = {{gate_.data(), &L.gate_exps[static_cast<size_t>(e)]},
                                    {up_.data(), &L.up_exps[static_cast<size_t>(e)]}};
    matmul_shared_input(ctx, xe_.data(), n, gate_up);
    silu_mul(ctx, gate_.data(), up_.data(), n * fe);
    matmul(ctx, ye_.data(), gate_.data(), L.down_exps[static_cast<size_t>(e)], n);
    for (int64_t i = 0; i < n; ++i)
      std::memcpy(y_slot_.data() + by_expert_[static_cast<size_t>(first + i)] * d, ye_.data() + i * d,
                  static_cast<size_t>(d) * sizeof(float));
  }
  // Each token's k outputs summed in its slot order, as the decode path above does: a token's
  // sum does not depend on the other tokens of the batch (batch invariance, sequence_scheduler.hpp).
  for (int64_t slot = 0; slot < T * K; ++slot) {
    if (lc.moe_sigmoid_input) add_inplace(ctx, moe_out_.data() + (slot / K) * d, y_slot_.data() + slot * d, d);
    else add_scaled(ctx, moe_out_.data() + (slot / K) * d, y_slot_.data() + slot * d, route_w_[static_cast<size_t>(slot)], d);
  }
  shared_expert(ctx, T, l);
  add_inplace(ctx, x_.data(), moe_out_.data(), T * d);
}

// llama4: moe_out += W_down,sh (silu(W_gate,sh h) * W_up,sh h) over every token, h = rms(x) (in
// h_), so the block adds (routed + shared) to x as llama.cpp's ffn_moe_out_merged does.
void Decoder::shared_expert(ExecContext& ctx, int64_t T, int64_t l) {
  const LayerWeights& L = model_.layers[static_cast<size_t>(l)];
  if (!model_.config.layer(l).shared_expert) return;
  const int64_t d = model_.config.n_embd, fe = model_.config.n_ff_exp;
  const MatmulOutput gate_up[] = {{gate_.data(), L.gate_shexp}, {up_.data(), L.up_shexp}};
  matmul_shared_input(ctx, h_.data(), T, gate_up);
  silu_mul(ctx, gate_.data(), up_.data(), T * fe);
  matmul(ctx, ye_.data(), gate_.data(), *L.down_shexp, T);
  add_inplace(ctx, moe_out_.data(), ye_.data(), T * d);
}

// x += [post_norm] W_down (act(W_gate h) * W_up h), h = rms(x): SwiGLU, or GeGLU (Gemma); or a
// mixture of such experts (moe_ffn).
void Decoder::ffn_block(ExecContext& ctx, int64_t T, int64_t l) {
  const ModelConfig& c = model_.config;
  const LayerConfig& lc = c.layer(l);
  const LayerWeights& L = model_.layers[static_cast<size_t>(l)];
  const int64_t d = c.n_embd;
  ctx.counters.add_weight_bytes(ctx.phase, L.ffn_norm->type, L.ffn_norm->nbytes);
  rmsnorm(ctx, h_.data(), x_.data(), L.ffn_norm_f32.data(), T, d, c.rms_eps);
  if (lc.moe) return moe_ffn(ctx, T, l);
  const MatmulOutput gate_up[] = {{gate_.data(), L.w_gate}, {up_.data(), L.w_up}};
  matmul_shared_input(ctx, h_.data(), T, gate_up);
  if (lc.gelu_ffn) gelu_mul(ctx, gate_.data(), up_.data(), T * c.n_ff);
  else silu_mul(ctx, gate_.data(), up_.data(), T * c.n_ff);
  matmul(ctx, h_.data(), gate_.data(), *L.w_down, T);
  if (lc.sandwich_norm) {
    ctx.counters.add_weight_bytes(ctx.phase, L.ffn_post_norm->type, L.ffn_post_norm->nbytes);
    rmsnorm(ctx, h_.data(), h_.data(), L.ffn_post_norm_f32.data(), T, d, lc.post_norm_eps > 0 ? lc.post_norm_eps : c.rms_eps);
  }
  add_inplace(ctx, x_.data(), h_.data(), T * d);
}

// Only the rows that want logits go through the output norm and projection.
std::span<const float> Decoder::output_block(ExecContext& ctx, std::span<const BatchToken> batch, int64_t n_out) {
  const ModelConfig& c = model_.config;
  const int64_t T = static_cast<int64_t>(batch.size()), d = c.n_embd;
  int64_t r = 0;
  for (int64_t t = 0; t < T; ++t)
    if (batch[static_cast<size_t>(t)].logits) {
      if (r != t) std::memmove(x_.data() + r * d, x_.data() + t * d, static_cast<size_t>(d) * sizeof(float));
      ++r;
    }
  ctx.counters.add_weight_bytes(ctx.phase, model_.output_norm->type, model_.output_norm->nbytes);
  rmsnorm(ctx, h_.data(), x_.data(), model_.output_norm_f32.data(), n_out, d, c.rms_eps);
  logits_.resize(static_cast<size_t>(n_out * c.n_vocab));
  matmul(ctx, logits_.data(), h_.data(), *model_.output, n_out);
  if (c.logit_scale != 1.0f) scale_rows(ctx, logits_.data(), n_out * c.n_vocab, c.logit_scale);
  if (c.final_softcap != 0.0f) softcap(ctx, logits_.data(), n_out * c.n_vocab, c.final_softcap);
  return {logits_.data(), logits_.size()};
}

std::span<const float> Decoder::eval(ExecContext& ctx, std::span<const int32_t> ids, int32_t seq,
                                     bool all_logits, std::span<const float* const> embeddings,
                                     std::span<const int32_t> lookahead) {
  const int64_t n = static_cast<int64_t>(ids.size());
  if (!embeddings.empty() && embeddings.size() != ids.size())
    throw Error("decoder", fmt::format("{} embedding rows given for {} tokens", embeddings.size(), ids.size()));
  if (!lookahead.empty() && lookahead.size() != ids.size())
    throw Error("decoder", fmt::format("{} lookaheads given for {} tokens", lookahead.size(), ids.size()));
  std::vector<float> all;
  std::vector<BatchToken> batch;
  std::span<const float> last;
  for (int64_t start = 0, end = 0; start < n; start = end) {
    end = chunk_end_keeping_blocks(lookahead, start, std::min(n, start + max_batch_));
    if (end == start)
      throw Error("decoder", fmt::format("positions from {} see each other as a block longer than max_batch {}",
                                         seq_len(seq), max_batch_));
    batch.clear();
    const int64_t base = seq_len(seq);
    for (int64_t i = start; i < end; ++i)
      batch.push_back({ids[static_cast<size_t>(i)], static_cast<int32_t>(base + i - start), seq,
                       all_logits || i == n - 1, embeddings.empty() ? nullptr : embeddings[static_cast<size_t>(i)],
                       lookahead.empty() ? 0 : lookahead[static_cast<size_t>(i)]});
    last = forward(ctx, batch);
    if (all_logits) all.insert(all.end(), last.begin(), last.end());
  }
  if (!all_logits) return last;
  logits_ = std::move(all);
  return {logits_.data(), logits_.size()};
}

}  // namespace tenx
