#include "tenx/model/analytic.hpp"

#include <fmt/format.h>

#include "tenx/model/model.hpp"
#include "tenx/util/error.hpp"

#include <algorithm>
#include <cmath>

namespace tenx {
namespace {

uint64_t bytes_of(DType t, int64_t ne0, int64_t ne1) {
  return static_cast<uint64_t>(dtype_row_bytes(t, ne0)) * static_cast<uint64_t>(ne1);
}

}  // namespace

ModelSpec ModelSpec::of(const Model& m) {
  ModelSpec s;
  s.config = m.config;
  s.token_embd = m.token_embd->type;
  s.output_norm = m.output_norm->type;
  s.output = m.output->type;
  if (m.rope_freqs) s.rope_freqs = m.rope_freqs->type;
  for (const LayerWeights& L : m.layers) {
    LayerStorage t;
    t.attn_norm = L.attn_norm->type;
    t.wq = L.wq->type;
    t.wk = L.wk->type;
    t.wv = L.wv->type;
    t.wo = L.wo->type;
    t.bias = L.bq ? L.bq->type : DType::F32;
    t.ffn_norm = L.ffn_norm->type;
    t.w_gate = L.w_gate->type;
    t.w_up = L.w_up->type;
    t.w_down = L.w_down->type;
    t.qk_norm = L.q_norm ? L.q_norm->type : DType::F32;
    t.post_norm = L.attn_post_norm ? L.attn_post_norm->type : DType::F32;
    t.attn_gate = L.attn_gate ? L.attn_gate->type : DType::F32;
    t.router = L.router ? L.router->type : DType::F32;
    t.shexp = L.gate_shexp ? L.gate_shexp->type : DType::F32;
    s.layers.push_back(t);
  }
  return s;
}

ModelSpec ModelSpec::uniform(const ModelConfig& config, DType matrices) {
  ModelSpec s;
  s.config = config;
  if (s.config.layers.size() != static_cast<size_t>(s.config.n_layer)) describe_layers(s.config);
  s.token_embd = matrices;
  s.output = matrices;
  LayerStorage t;
  t.wq = t.wk = t.wv = t.wo = t.w_gate = t.w_up = t.w_down = t.attn_gate = t.shexp = matrices;
  s.layers.assign(static_cast<size_t>(config.n_layer), t);
  return s;
}

uint64_t ModelSpec::weight_bytes() const {
  const ModelConfig& c = config;
  const int64_t d = c.n_embd, q = c.q_dim(), kv = c.kv_dim(), ff = c.n_ff;
  uint64_t n = bytes_of(token_embd, d, c.n_vocab) + bytes_of(output_norm, d, 1);
  if (!c.tied_output) n += bytes_of(output, d, c.n_vocab);
  if (!c.rope_freq_factors.empty()) n += bytes_of(rope_freqs, c.n_rot / 2, 1);
  for (size_t l = 0; l < layers.size(); ++l) {
    const LayerStorage& L = layers[l];
    const LayerConfig& lc = c.layer(static_cast<int64_t>(l));
    n += bytes_of(L.attn_norm, d, 1) + bytes_of(L.wq, d, q) + bytes_of(L.wk, d, kv) + bytes_of(L.wv, d, kv) +
         bytes_of(L.wo, q, d) + bytes_of(L.ffn_norm, d, 1);
    if (lc.moe) {
      const int64_t fe = c.n_ff_exp, E = c.n_expert;
      n += bytes_of(L.router, d, E) + bytes_of(L.w_gate, d, fe * E) + bytes_of(L.w_up, d, fe * E) +
           bytes_of(L.w_down, fe, d * E);
      if (lc.shared_expert) n += 2 * bytes_of(L.shexp, d, fe) + bytes_of(L.shexp, fe, d);
    } else {
      n += bytes_of(L.w_gate, d, ff) + bytes_of(L.w_up, d, ff) + bytes_of(L.w_down, ff, d);
    }
    if (lc.qkv_bias) n += bytes_of(L.bias, q, 1) + 2 * bytes_of(L.bias, kv, 1);
    if (lc.qk_norm) n += 2 * bytes_of(L.qk_norm, c.head_dim, 1);
    if (lc.sandwich_norm) n += 2 * bytes_of(L.post_norm, d, 1);
    if (lc.attn_gate) n += bytes_of(L.attn_gate, d, q);
  }
  return n;
}

int64_t ModelSpec::n_params() const {
  const ModelConfig& c = config;
  const int64_t d = c.n_embd, q = c.q_dim(), kv = c.kv_dim(), ff = c.n_ff;
  int64_t n = d * c.n_vocab * (c.tied_output ? 1 : 2) + d;
  if (!c.rope_freq_factors.empty()) n += c.n_rot / 2;
  for (const LayerConfig& lc : c.layers)
    n += 2 * d + d * q + 2 * d * kv + q * d + (lc.moe ? d * c.n_expert + 3 * d * c.n_ff_exp * c.n_expert : 3 * d * ff) +
         (lc.qkv_bias ? q + 2 * kv : 0) + (lc.qk_norm ? 2 * c.head_dim : 0) + (lc.sandwich_norm ? 2 * d : 0) +
         (lc.attn_gate ? d * q : 0) + (lc.shared_expert ? 3 * d * c.n_ff_exp : 0);
  return n;
}

int64_t ModelSpec::n_active_params() const {
  int64_t n = n_params();
  for (const LayerConfig& lc : config.layers)
    if (lc.moe) n -= 3 * config.n_embd * config.n_ff_exp * (config.n_expert - config.n_expert_used);
  return n;
}

Counters analytic_forward(const ModelSpec& spec, std::span<const int64_t> positions, int64_t n_logits,
                          Phase phase, int64_t n_embedded, std::span<const int64_t> experts_run,
                          std::span<const int32_t> lookahead) {
  if (!lookahead.empty() && lookahead.size() != positions.size())
    throw Error("analytic", fmt::format("{} lookaheads given for {} positions", lookahead.size(), positions.size()));
  ModelConfig described;  // a hand-made configuration without its layers: the family's defaults
  if (spec.config.layers.size() != static_cast<size_t>(spec.config.n_layer)) {
    described = spec.config;
    describe_layers(described);
  }
  const ModelConfig& c = described.layers.empty() ? spec.config : described;
  const int p = int(phase);
  const auto T = static_cast<uint64_t>(positions.size());
  Counters r;
  if (T == 0) return r;
  const uint64_t d = c.n_embd, q = c.q_dim(), kv = c.kv_dim(), ff = c.n_ff, L = c.n_layer;
  const uint64_t H = c.n_head, hd = c.head_dim;
  // Sum over tokens of the keys each attends to in a layer: from the first the layer lets it see
  // (0, pos + 1 - window, or its chunk's start) to pos + lookahead (Gemma 3's image rows see the
  // rest of their image).
  auto keys_of = [&](const LayerConfig& lc) {
    uint64_t keys = 0;
    for (size_t i = 0; i < positions.size(); ++i) {
      const int64_t pos = positions[i], end = pos + 1 + (lookahead.empty() ? 0 : lookahead[i]);
      keys += static_cast<uint64_t>(end - (lc.sliding_window > 0 ? std::max<int64_t>(0, pos + 1 - lc.sliding_window)
                                           : lc.attn_chunk > 0 ? pos / lc.attn_chunk * lc.attn_chunk  // its own chunk
                                                               : 0));
    }
    return keys;
  };
  uint64_t all_keys = 0;  // over all layers
  for (const LayerConfig& lc : c.layers) all_keys += keys_of(lc);
  r.tokens[p] = T;

  // Matmuls: 2·T·in·out per weight matrix, plus the output projection for n_logits rows.
  uint64_t macs = 0;  // per token, over all layers (muse-glimmer's gate is a fifth d x q matrix)
  const uint64_t E = c.n_expert, K = c.n_expert_used, fe = c.n_ff_exp;
  for (const LayerConfig& lc : c.layers)
    macs += d * q + 2 * d * kv + q * d + (lc.moe ? d * E + 3 * d * fe * K : 3 * d * ff) + (lc.attn_gate ? d * q : 0) +
            (lc.shared_expert ? 3 * d * fe : 0);
  r.flops[p][int(OpClass::Matmul)] = 2 * T * macs + 2 * static_cast<uint64_t>(n_logits) * d * c.n_vocab;
  // Attention: Q·Kᵀ and softmax·V, 4·(pos+1)·head_dim per query head per layer.
  r.flops[p][int(OpClass::Attention)] = 4 * all_keys * hd * H;
  // Other: norms, bias, q/k norms, RoPE, score scaling + softmax, residual adds, SwiGLU; per
  // layer as its description says.
  using namespace flop_cost;
  uint64_t other = n_logits > 0 ? kRmsNorm * static_cast<uint64_t>(n_logits) * d : 0;
  if (c.embd_scale) other += kScale * (T - static_cast<uint64_t>(n_embedded)) * d;
  if (c.embd_norm) other += kRmsNorm * T * d;  // image rows too (Decoder::embed_block)
  const uint64_t n_out = static_cast<uint64_t>(std::max<int64_t>(n_logits, 0)) * c.n_vocab;
  if (c.logit_scale != 1.0f) other += kScale * n_out;
  if (c.final_softcap != 0.0f) other += kSoftcap * n_out;
  for (const LayerConfig& lc : c.layers) {
    other += 2 * kRmsNorm * T * d + (lc.rope ? kRope * T * (c.n_head + c.n_head_kv) * c.n_rot : 0) +
             (kScale + kSoftmax) * keys_of(lc) * H + 2 * kAdd * T * d;
    if (lc.moe && lc.moe_sigmoid_input)  // gate per chosen expert, its input scaled, its output added
      other += kMoeSigmoid * T * K + kScale * T * K * d + kSiluMul * T * K * fe + kAdd * T * K * d;
    else if (lc.moe) other += kSoftmax * T * E + kMoeNorm * T * K + kSiluMul * T * K * fe + kMoeCombine * T * K * d;
    else other += (lc.gelu_ffn ? kGeluMul : kSiluMul) * T * ff;
    if (lc.qkv_bias) other += kAdd * T * (q + 2 * kv);
    if (lc.qk_norm) other += kRmsNorm * T * (q + kv);
    if (lc.sandwich_norm) other += 2 * kRmsNorm * T * d;
    if (lc.attn_gate) other += kSigmoidMul * T * q;
    if (lc.shared_expert) other += kSiluMul * T * fe + kAdd * T * d;
    if (lc.attn_temperature) other += kScale * T * q;
    if (lc.qk_l2_norm) other += kRmsNorm * T * (q + kv);
    if (c.attn_softcap > 0) other += kSoftcap * keys_of(lc) * H;
  }
  r.flops[p][int(OpClass::Other)] = other;

  // Bytes: every matrix once per forward, embedding rows per token, norms/biases (and the
  // rope_freqs factors) once per layer that reads them.
  auto add = [&](DType t, uint64_t n) { r.add_weight_bytes(phase, t, n); };
  add(spec.token_embd, (T - static_cast<uint64_t>(n_embedded)) * static_cast<uint64_t>(dtype_row_bytes(spec.token_embd, c.n_embd)));
  for (size_t l = 0; l < spec.layers.size(); ++l) {
    const LayerStorage& S = spec.layers[l];
    const LayerConfig& lc = c.layer(static_cast<int64_t>(l));
    add(S.attn_norm, bytes_of(S.attn_norm, c.n_embd, 1));
    add(S.wq, bytes_of(S.wq, c.n_embd, c.q_dim()));
    add(S.wk, bytes_of(S.wk, c.n_embd, c.kv_dim()));
    add(S.wv, bytes_of(S.wv, c.n_embd, c.kv_dim()));
    if (lc.qkv_bias) add(S.bias, bytes_of(S.bias, c.q_dim(), 1) + 2 * bytes_of(S.bias, c.kv_dim(), 1));
    if (lc.qk_norm) add(S.qk_norm, 2 * bytes_of(S.qk_norm, c.head_dim, 1));
    if (lc.attn_gate) add(S.attn_gate, bytes_of(S.attn_gate, c.n_embd, c.q_dim()));
    if (!c.rope_freq_factors.empty() && lc.rope) add(spec.rope_freqs, bytes_of(spec.rope_freqs, c.n_rot / 2, 1));
    add(S.wo, bytes_of(S.wo, c.q_dim(), c.n_embd));
    add(S.ffn_norm, bytes_of(S.ffn_norm, c.n_embd, 1));
    if (lc.moe) {  // the router, then each expert the forward ran, once
      const double expected = static_cast<double>(E) * (1.0 - std::pow(1.0 - static_cast<double>(K) / static_cast<double>(E), static_cast<double>(T)));
      const uint64_t run = l < experts_run.size() ? static_cast<uint64_t>(experts_run[l])
                                                  : T == 1 ? K : static_cast<uint64_t>(std::llround(expected));
      add(S.router, bytes_of(S.router, c.n_embd, c.n_expert));
      add(S.w_gate, run * bytes_of(S.w_gate, c.n_embd, c.n_ff_exp));
      add(S.w_up, run * bytes_of(S.w_up, c.n_embd, c.n_ff_exp));
      add(S.w_down, run * bytes_of(S.w_down, c.n_ff_exp, c.n_embd));
      if (lc.shared_expert)
        add(S.shexp, 2 * bytes_of(S.shexp, c.n_embd, c.n_ff_exp) + bytes_of(S.shexp, c.n_ff_exp, c.n_embd));
    } else {
      add(S.w_gate, bytes_of(S.w_gate, c.n_embd, c.n_ff));
      add(S.w_up, bytes_of(S.w_up, c.n_embd, c.n_ff));
      add(S.w_down, bytes_of(S.w_down, c.n_ff, c.n_embd));
    }
    if (lc.sandwich_norm) add(S.post_norm, 2 * bytes_of(S.post_norm, c.n_embd, 1));
  }
  if (n_logits > 0) {
    add(spec.output_norm, bytes_of(spec.output_norm, c.n_embd, 1));
    add(spec.output, bytes_of(spec.output, c.n_embd, c.n_vocab));
  }
  r.kv_bytes_written[p] = T * 2 * kv * sizeof(float) * L;
  r.kv_bytes_read[p] = all_keys * 2 * kv * sizeof(float);
  return r;
}

Counters analytic_vision_forward(int64_t patch_dim, int64_t n_embd, int64_t n_patches, Phase phase, DType proj,
                                 DType bias, DType pos) {
  Counters r;
  if (n_patches <= 0) return r;
  const auto n = static_cast<uint64_t>(n_patches), in = static_cast<uint64_t>(patch_dim),
             d = static_cast<uint64_t>(n_embd);
  r.add_flops(phase, OpClass::Matmul, 2 * n * in * d);
  r.add_flops(phase, OpClass::Other, 2 * flop_cost::kAdd * n * d);  // bias, then position
  r.add_weight_bytes(phase, proj, static_cast<uint64_t>(dtype_row_bytes(proj, patch_dim)) * d);
  r.add_weight_bytes(phase, bias, static_cast<uint64_t>(dtype_row_bytes(bias, n_embd)));
  r.add_weight_bytes(phase, pos, n * static_cast<uint64_t>(dtype_row_bytes(pos, n_embd)));
  return r;
}

Counters analytic_log_softmax(int64_t n_vocab, int64_t n_rows, Phase phase) {
  Counters r;
  r.add_flops(phase, OpClass::Other, flop_cost::kLogSoftmax * static_cast<uint64_t>(n_vocab * n_rows));
  return r;
}

uint64_t flops_per_token(const ModelSpec& spec, int64_t n_ctx) {
  const int64_t pos = n_ctx > 0 ? n_ctx - 1 : 0;
  return analytic_forward(spec, std::span<const int64_t>(&pos, 1), 1, Phase::Decode).total_flops();
}

int64_t kv_positions_kept(const LayerConfig& lc, int64_t n_ctx, int64_t max_batch) {
  const int64_t window = lc.sliding_window > 0 ? lc.sliding_window : lc.attn_chunk;
  if (window <= 0) return n_ctx;
  return std::min(n_ctx, window + std::max<int64_t>(max_batch, 1) - 1);
}

uint64_t kv_cache_bytes(const ModelConfig& config, int64_t n_ctx, int64_t max_batch) {
  ModelConfig described;  // a hand-made configuration without its layers: the family's defaults
  if (config.layers.size() != static_cast<size_t>(config.n_layer)) {
    described = config;
    describe_layers(described);
  }
  const ModelConfig& c = described.layers.empty() ? config : described;
  uint64_t positions = 0;
  for (const LayerConfig& lc : c.layers) positions += static_cast<uint64_t>(kv_positions_kept(lc, n_ctx, max_batch));
  return positions * 2 * static_cast<uint64_t>(c.kv_dim()) * sizeof(float);
}

}  // namespace tenx
