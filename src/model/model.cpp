#include "tenx/model/model.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "tenx/ops/quant.hpp"
#include "tenx/util/error.hpp"

namespace tenx {
namespace {

std::string shape_str(const TensorView& t) {
  std::string s = "[";
  for (int i = 0; i < t.n_dims; ++i) s += (i ? ", " : "") + std::to_string(t.ne[i]);
  return s + "]";
}

const TensorView* require(const ModelFile& f, const std::string& name, int64_t ne0, int64_t ne1) {
  const TensorView* t = f.find(name);
  if (!t) throw Error(f.path, fmt::format("missing tensor '{}'", name));
  const bool ok = ne1 == 0 ? (t->n_dims == 1 && t->ne[0] == ne0)
                           : (t->n_dims == 2 && t->ne[0] == ne0 && t->ne[1] == ne1);
  if (!ok)
    throw Error(f.path, fmt::format("tensor '{}' has shape {}, expected [{}{}]", name, shape_str(*t), ne0,
                                    ne1 ? fmt::format(", {}", ne1) : std::string()));
  return t;
}

std::vector<float> to_f32(const TensorView& t) {
  std::vector<float> out(static_cast<size_t>(t.elements()));
  dequantize_row(t.type, t.data, out.data(), t.elements());
  return out;
}

}  // namespace

Model Model::load(const std::string& path) { return from_file(load_model_file(path)); }

Model Model::from_file(ModelFile file) {
  Model m;
  m.file = std::move(file);
  const ModelFile& f = m.file;
  ModelConfig& c = m.config;
  c = config_from_metadata(f.meta, f.path);

  const TensorView* embd = f.find("token_embd.weight");
  if (!embd) throw Error(f.path, "missing tensor 'token_embd.weight'");
  if (embd->n_dims != 2 || embd->ne[0] != c.n_embd || embd->ne[1] <= 0)
    throw Error(f.path, fmt::format("tensor 'token_embd.weight' has shape {}, expected [{}, n_vocab]",
                                    shape_str(*embd), c.n_embd));
  c.n_vocab = embd->ne[1];
  m.token_embd = embd;
  m.output_norm = require(f, "output_norm.weight", c.n_embd, 0);
  m.output_norm_f32 = to_f32(*m.output_norm);
  m.output = f.find("output.weight");
  c.tied_output = m.output == nullptr;
  if (c.tied_output) m.output = embd;
  else require(f, "output.weight", c.n_embd, c.n_vocab);

  const int64_t d = c.n_embd, q = c.q_dim(), kv = c.kv_dim(), ff = c.n_ff;
  // Grown layer by layer, not resized to block_count up front: a header claiming 2^31 layers
  // (found by tests/fuzz/gguf_fuzz.cpp) fails at the first missing tensor, not on a 47 GB vector.
  m.layers.reserve(std::min(static_cast<size_t>(c.n_layer), f.tensors.size()));
  for (int64_t i = 0; i < c.n_layer; ++i) {
    const std::string p = fmt::format("blk.{}.", i);
    LayerWeights& L = m.layers.emplace_back();
    L.attn_norm = require(f, p + "attn_norm.weight", d, 0);
    L.wq = require(f, p + "attn_q.weight", d, q);
    L.wk = require(f, p + "attn_k.weight", d, kv);
    L.wv = require(f, p + "attn_v.weight", d, kv);
    L.wo = require(f, p + "attn_output.weight", q, d);
    L.ffn_norm = require(f, p + "ffn_norm.weight", d, 0);
    L.w_gate = require(f, p + "ffn_gate.weight", d, ff);
    L.w_up = require(f, p + "ffn_up.weight", d, ff);
    L.w_down = require(f, p + "ffn_down.weight", ff, d);
    L.attn_norm_f32 = to_f32(*L.attn_norm);
    L.ffn_norm_f32 = to_f32(*L.ffn_norm);
    if (c.qkv_bias) {
      L.bq = require(f, p + "attn_q.bias", q, 0);
      L.bk = require(f, p + "attn_k.bias", kv, 0);
      L.bv = require(f, p + "attn_v.bias", kv, 0);
      L.bq_f32 = to_f32(*L.bq);
      L.bk_f32 = to_f32(*L.bk);
      L.bv_f32 = to_f32(*L.bv);
    }
  }
  return m;
}

int64_t Model::n_params() const {
  int64_t n = 0;
  for (const auto& t : file.tensors) n += t.elements();
  return n;
}

uint64_t Model::weight_bytes() const {
  uint64_t n = 0;
  for (const auto& t : file.tensors) n += t.nbytes;
  return n;
}

}  // namespace tenx
