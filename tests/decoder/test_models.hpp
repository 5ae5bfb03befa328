#pragma once
// Small in-memory models for the decoder tests, built without any file: the
// weights are seeded random numbers, matrices optionally stored quantized.
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tenx/model/model.hpp"
#include "tenx/ops/quant.hpp"

namespace tenx::test {

struct TinySpec {
  std::string arch = "llama";  // llama, qwen2 (q/k/v biases), qwen3 (q/k norms), gemma3, gemma2 (tied), muse-glimmer
  int64_t dim = 64, layers = 2, heads = 4, kv_heads = 2, ff = 96, vocab = 97;
  int64_t head_dim = 0;  // 0: dim / heads; else written as attention.key_length
  bool tied = false;
  DType matrices = DType::F32;
  float rope_base = 10000.0f;
  uint64_t seed = 1;
  std::vector<float> rope_freqs = {};  // llama: a rope_freqs tensor of per-pair divisors
  float rope_linear_factor = 0;   // > 0: rope.scaling.type linear with this factor
  int64_t window = 0, swa_period = 0;  // gemma3: attention.sliding_window[_pattern] when > 0
  // muse-glimmer: the pattern as one bool per layer (non-empty: written instead of swa_period),
  // logit_scale (always written for muse-glimmer) and final_logit_softcapping when > 0.
  std::vector<bool> swa_layers = {};
  float logit_scale = 1.0f, softcap = 0.0f;
  float attn_softcap = 0.0f;  // gemma2: attn_logit_softcapping when > 0 (softcap: final_logit_softcapping)
};

inline Model make_tiny_model(const TinySpec& s) {
  auto buffers = std::make_shared<std::vector<std::vector<uint8_t>>>();
  ModelFile f;
  f.path = "tiny-test-model";
  const std::string& a = s.arch;
  f.meta.set("general.architecture", GgufValue::str(a));
  f.meta.set(a + ".context_length", GgufValue::u32(256));
  f.meta.set(a + ".embedding_length", GgufValue::u32(static_cast<uint32_t>(s.dim)));
  f.meta.set(a + ".block_count", GgufValue::u32(static_cast<uint32_t>(s.layers)));
  f.meta.set(a + ".feed_forward_length", GgufValue::u32(static_cast<uint32_t>(s.ff)));
  f.meta.set(a + ".attention.head_count", GgufValue::u32(static_cast<uint32_t>(s.heads)));
  f.meta.set(a + ".attention.head_count_kv", GgufValue::u32(static_cast<uint32_t>(s.kv_heads)));
  f.meta.set(a + ".attention.layer_norm_rms_epsilon", GgufValue::f32(1e-5f));
  f.meta.set(a + ".rope.freq_base", GgufValue::f32(s.rope_base));
  if (s.head_dim) f.meta.set(a + ".attention.key_length", GgufValue::u32(static_cast<uint32_t>(s.head_dim)));
  if (s.rope_linear_factor > 0) {
    f.meta.set(a + ".rope.scaling.type", GgufValue::str("linear"));
    f.meta.set(a + ".rope.scaling.factor", GgufValue::f32(s.rope_linear_factor));
  }
  if (s.window > 0) f.meta.set(a + ".attention.sliding_window", GgufValue::u32(static_cast<uint32_t>(s.window)));
  if (s.swa_period > 0)
    f.meta.set(a + ".attention.sliding_window_pattern", GgufValue::u32(static_cast<uint32_t>(s.swa_period)));
  if (!s.swa_layers.empty()) {
    GgufValue v;
    v.type = GgufType::ARRAY, v.array_type = GgufType::BOOL;
    for (bool b : s.swa_layers) v.ints.push_back(b ? 1 : 0);
    f.meta.set(a + ".attention.sliding_window_pattern", v);
  }
  if (a == "muse-glimmer") f.meta.set(a + ".logit_scale", GgufValue::f32(s.logit_scale));
  if (s.attn_softcap > 0) f.meta.set(a + ".attn_logit_softcapping", GgufValue::f32(s.attn_softcap));
  if (s.softcap > 0) f.meta.set(a + ".final_logit_softcapping", GgufValue::f32(s.softcap));
  std::mt19937_64 rng(s.seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);  // test-only: portability not needed
  buffers->reserve(64 + static_cast<size_t>(s.layers) * 16);
  auto add = [&](const std::string& name, int64_t ne0, int64_t ne1, DType type, float scale, float offset) {
    const int64_t n = ne0 * ne1;
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = offset + scale * normal(rng);
    std::vector<uint8_t> bytes(static_cast<size_t>(dtype_row_bytes(type, ne0) * ne1));
    for (int64_t r = 0; r < ne1; ++r)
      quantize_row(type, v.data() + r * ne0, bytes.data() + r * dtype_row_bytes(type, ne0), ne0);
    buffers->push_back(std::move(bytes));
    TensorView t;
    t.name = name;
    t.type = type;
    t.n_dims = ne1 == 1 ? 1 : 2;
    t.ne = {ne0, ne1, 1, 1};
    t.data = buffers->back().data();
    t.nbytes = buffers->back().size();
    f.tensors.push_back(t);
  };
  const int64_t hd = s.head_dim ? s.head_dim : s.dim / s.heads, q = s.heads * hd, kv = s.kv_heads * hd;
  const float w = 0.15f;
  add("token_embd.weight", s.dim, s.vocab, s.matrices, 0.5f, 0.0f);
  add("output_norm.weight", s.dim, 1, DType::F32, 0.1f, 1.0f);
  if (!s.tied) add("output.weight", s.dim, s.vocab, s.matrices, w, 0.0f);
  if (!s.rope_freqs.empty()) {
    add("rope_freqs.weight", static_cast<int64_t>(s.rope_freqs.size()), 1, DType::F32, 0.0f, 0.0f);
    std::memcpy(buffers->back().data(), s.rope_freqs.data(), s.rope_freqs.size() * sizeof(float));
  }
  for (int64_t l = 0; l < s.layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    add(p + "attn_norm.weight", s.dim, 1, DType::F32, 0.1f, 1.0f);
    add(p + "attn_q.weight", s.dim, q, s.matrices, w, 0.0f);
    add(p + "attn_k.weight", s.dim, kv, s.matrices, w, 0.0f);
    add(p + "attn_v.weight", s.dim, kv, s.matrices, w, 0.0f);
    if (s.arch == "qwen2") {
      add(p + "attn_q.bias", q, 1, DType::F32, 0.1f, 0.0f);
      add(p + "attn_k.bias", kv, 1, DType::F32, 0.1f, 0.0f);
      add(p + "attn_v.bias", kv, 1, DType::F32, 0.1f, 0.0f);
    }
    const bool muse = s.arch == "muse-glimmer";
    if (s.arch == "qwen3" || s.arch == "gemma3" || muse) {
      add(p + "attn_q_norm.weight", hd, 1, DType::F32, 0.1f, 1.0f);
      add(p + "attn_k_norm.weight", hd, 1, DType::F32, 0.1f, 1.0f);
    }
    if (muse) add(p + "attn_gate.weight", s.dim, q, s.matrices, w, 0.0f);
    add(p + "attn_output.weight", q, s.dim, s.matrices, w, 0.0f);
    add(p + "ffn_norm.weight", s.dim, 1, DType::F32, 0.1f, 1.0f);
    add(p + "ffn_gate.weight", s.dim, s.ff, s.matrices, w, 0.0f);
    add(p + "ffn_up.weight", s.dim, s.ff, s.matrices, w, 0.0f);
    add(p + "ffn_down.weight", s.ff, s.dim, s.matrices, w, 0.0f);
    if (s.arch == "gemma3" || s.arch == "gemma2" || muse) {  // sandwich norms
      add(p + "post_attention_norm.weight", s.dim, 1, DType::F32, 0.1f, 1.0f);
      add(p + "post_ffw_norm.weight", s.dim, 1, DType::F32, 0.1f, 1.0f);
    }
  }
  f.storage = buffers;
  return Model::from_file(std::move(f));
}

}  // namespace tenx::test
