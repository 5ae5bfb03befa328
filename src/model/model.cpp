#include "tenx/model/model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "tenx/model/arch.hpp"
#include "tenx/ops/quant.hpp"
#include "tenx/util/error.hpp"

namespace tenx {
namespace {

std::string shape_str(const TensorView& t) {
  std::string s = "[";
  for (int i = 0; i < t.n_dims; ++i) s += (i ? ", " : "") + std::to_string(t.ne[i]);
  return s + "]";
}

// Finds tensors by name, checks their shapes and remembers which were used, so that a
// tensor the description does not use fails the load instead of being ignored.
class TensorTaker {
 public:
  explicit TensorTaker(const ModelFile& f) : f_(f) {}

  const TensorView* find(const std::string& name) {
    const TensorView* t = f_.find(name);
    if (t) taken_.insert(name);
    return t;
  }

  const TensorView* require(const std::string& name, int64_t ne0, int64_t ne1) {
    const TensorView* t = find(name);
    if (!t) throw Error(f_.path, fmt::format("missing tensor '{}'", name));
    const bool ok = ne1 == 0 ? (t->n_dims == 1 && t->ne[0] == ne0)
                             : (t->n_dims == 2 && t->ne[0] == ne0 && t->ne[1] == ne1);
    if (!ok)
      throw Error(f_.path, fmt::format("tensor '{}' has shape {}, expected [{}{}]", name, shape_str(*t), ne0,
                                       ne1 ? fmt::format(", {}", ne1) : std::string()));
    return t;
  }

  // A 3-D tensor of n stacked [ne0, ne1] matrices (the experts of a mixture).
  const TensorView* require3(const std::string& name, int64_t ne0, int64_t ne1, int64_t ne2) {
    const TensorView* t = find(name);
    if (!t) throw Error(f_.path, fmt::format("missing tensor '{}'", name));
    if (t->n_dims != 3 || t->ne[0] != ne0 || t->ne[1] != ne1 || t->ne[2] != ne2)
      throw Error(f_.path, fmt::format("tensor '{}' has shape {}, expected [{}, {}, {}]", name, shape_str(*t), ne0, ne1, ne2));
    return t;
  }

  void check_all_used(const std::string& arch) const {
    for (const TensorView& t : f_.tensors)
      if (!taken_.contains(t.name))
        throw Error(f_.path, fmt::format("architecture '{}': tensor '{}' is not used by tenx's description of {} "
                                         "and may change the computation (docs/architectures.md)",
                                         arch, t.name, arch));
  }

 private:
  const ModelFile& f_;
  std::set<std::string> taken_;
};

// Expert e of a 3-D expert tensor as a 2-D weight of its own (same storage, no copy): the
// matmul kernels run on it as on any matrix and count its bytes only.
std::vector<TensorView> expert_views(const TensorView& t) {
  std::vector<TensorView> out;
  const uint64_t bytes = static_cast<uint64_t>(t.row_bytes()) * static_cast<uint64_t>(t.ne[1]);
  for (int64_t e = 0; e < t.ne[2]; ++e) {
    TensorView v = t;
    v.name = fmt::format("{}[{}]", t.name, e);
    v.n_dims = 2;
    v.ne = {t.ne[0], t.ne[1], 1, 1};
    v.data = t.data + static_cast<uint64_t>(e) * bytes;
    v.nbytes = bytes;
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace

Model Model::load(const std::string& path) { return from_file(load_model_file(path)); }

Model Model::from_file(ModelFile file) {
  Model m;
  m.file = std::move(file);
  const ModelFile& f = m.file;
  ModelConfig& c = m.config;
  c = config_from_metadata(f.meta, f.path, static_cast<int64_t>(f.tensors.size()));
  const Family& fam = family_of(c.arch, f.path);
  TensorTaker take(f);

  const TensorView* embd = take.find("token_embd.weight");
  if (!embd) throw Error(f.path, "missing tensor 'token_embd.weight'");
  if (embd->n_dims != 2 || embd->ne[0] != c.n_embd || embd->ne[1] <= 0)
    throw Error(f.path, fmt::format("tensor 'token_embd.weight' has shape {}, expected [{}, n_vocab]",
                                    shape_str(*embd), c.n_embd));
  c.n_vocab = embd->ne[1];
  m.token_embd = embd;
  m.output_norm = take.require("output_norm.weight", c.n_embd, 0);
  m.output_norm_f32 = dequantize(*m.output_norm);
  // gemma2's output is token_embd (llama.cpp never reads an output.weight: left over, it fails).
  m.output = fam.tied_only ? nullptr : take.find("output.weight");
  c.tied_output = m.output == nullptr;
  if (c.tied_output && fam.muse_swa)  // llama.cpp requires output.weight for muse-glimmer
    throw Error(f.path, fmt::format("architecture '{}': missing tensor 'output.weight'", c.arch));
  if (c.tied_output) m.output = embd;
  else take.require("output.weight", c.n_embd, c.n_vocab);
  // One rope_freqs tensor serves every layer (llama.cpp loads it as blk 0's and duplicates it).
  if (fam.rope_freqs && f.find("rope_freqs.weight")) {
    m.rope_freqs = take.require("rope_freqs.weight", c.n_rot / 2, 0);
    c.rope_freq_factors = dequantize(*m.rope_freqs);
    for (float x : c.rope_freq_factors)
      if (!(x > 0) || !std::isfinite(x))
        throw Error(f.path, fmt::format("tensor 'rope_freqs.weight' holds {}: factors must be positive", x));
  }

  const int64_t d = c.n_embd, q = c.q_dim(), kv = c.kv_dim(), ff = c.n_ff, hd = c.head_dim;
  // A header claiming 2^31 layers (found by tests/fuzz/gguf_fuzz.cpp) fails at the first missing
  // layer tensor, not on a 47 GB vector: config_from_metadata left its layers undescribed.
  if (c.layers.size() != static_cast<size_t>(c.n_layer))
    for (int64_t i = 0;; ++i) take.require(fmt::format("blk.{}.attn_norm.weight", i), d, 0);
  m.layers.reserve(static_cast<size_t>(c.n_layer));
  for (int64_t i = 0; i < c.n_layer; ++i) {
    const std::string p = fmt::format("blk.{}.", i);
    const LayerConfig& lc = c.layer(i);
    LayerWeights& L = m.layers.emplace_back();
    L.attn_norm = take.require(p + "attn_norm.weight", d, 0);
    L.wq = take.require(p + "attn_q.weight", d, q);
    L.wk = take.require(p + "attn_k.weight", d, kv);
    L.wv = take.require(p + "attn_v.weight", d, kv);
    L.wo = take.require(p + "attn_output.weight", q, d);
    L.ffn_norm = take.require(p + "ffn_norm.weight", d, 0);
    if (lc.moe) {
      const int64_t E = c.n_expert, fe = c.n_ff_exp;
      L.router = take.require(p + "ffn_gate_inp.weight", d, E);
      L.w_gate = take.require3(p + "ffn_gate_exps.weight", d, fe, E);
      L.w_up = take.require3(p + "ffn_up_exps.weight", d, fe, E);
      L.w_down = take.require3(p + "ffn_down_exps.weight", fe, d, E);
      L.gate_exps = expert_views(*L.w_gate);
      L.up_exps = expert_views(*L.w_up);
      L.down_exps = expert_views(*L.w_down);
      if (lc.shared_expert) {
        L.gate_shexp = take.require(p + "ffn_gate_shexp.weight", d, fe);
        L.up_shexp = take.require(p + "ffn_up_shexp.weight", d, fe);
        L.down_shexp = take.require(p + "ffn_down_shexp.weight", fe, d);
      }
    } else {
      L.w_gate = take.require(p + "ffn_gate.weight", d, ff);
      L.w_up = take.require(p + "ffn_up.weight", d, ff);
      L.w_down = take.require(p + "ffn_down.weight", ff, d);
    }
    L.attn_norm_f32 = dequantize(*L.attn_norm);
    L.ffn_norm_f32 = dequantize(*L.ffn_norm);
    if (lc.qkv_bias) {
      L.bq = take.require(p + "attn_q.bias", q, 0);
      L.bk = take.require(p + "attn_k.bias", kv, 0);
      L.bv = take.require(p + "attn_v.bias", kv, 0);
      L.bq_f32 = dequantize(*L.bq);
      L.bk_f32 = dequantize(*L.bk);
      L.bv_f32 = dequantize(*L.bv);
    }
    if (lc.qk_norm) {
      L.q_norm = take.require(p + "attn_q_norm.weight", hd, 0);
      L.k_norm = take.require(p + "attn_k_norm.weight", hd, 0);
      L.q_norm_f32 = dequantize(*L.q_norm);
      L.k_norm_f32 = dequantize(*L.k_norm);
    }
    if (lc.attn_gate) L.attn_gate = take.require(p + "attn_gate.weight", d, q);
    if (lc.sandwich_norm) {
      L.attn_post_norm = take.require(p + "post_attention_norm.weight", d, 0);
      L.ffn_post_norm = take.require(p + "post_ffw_norm.weight", d, 0);
      L.attn_post_norm_f32 = dequantize(*L.attn_post_norm);
      L.ffn_post_norm_f32 = dequantize(*L.ffn_post_norm);
    }
  }
  take.check_all_used(c.arch);
  return m;
}

int64_t Model::n_params() const {
  int64_t n = 0;
  for (const auto& t : file.tensors) n += t.elements();
  return n;
}

int64_t Model::n_active_params() const {
  const ModelConfig& c = config;
  int64_t n = n_params();
  for (const LayerWeights& L : layers)
    if (L.router) n -= (c.n_expert - c.n_expert_used) * 3 * c.n_embd * c.n_ff_exp;
  return n;
}

uint64_t Model::weight_bytes() const {
  uint64_t n = 0;
  for (const auto& t : file.tensors) n += t.nbytes;
  return n;
}

}  // namespace tenx
