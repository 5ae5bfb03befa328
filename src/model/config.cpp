#include "tenx/model/config.hpp"

#include <fmt/format.h>

#include "tenx/util/error.hpp"

namespace tenx {

const char* arch_name(Arch a) { return a == Arch::Qwen2 ? "qwen2" : "llama"; }

namespace {

// A per-layer hyper-parameter may be an INT32 array of length block_count
// (gguf.md §3); tenx runs uniform layers, so all entries must agree.
int64_t read_uniform(const Metadata& meta, const std::string& key, const std::string& subject,
                     int64_t n_layer) {
  const GgufValue* v = meta.find(key);
  if (!v) throw Error(subject, fmt::format("missing metadata key '{}'", key));
  if (v->type == GgufType::ARRAY) {
    if (!(v->array_type == GgufType::INT32 || v->array_type == GgufType::UINT32) || v->ints.empty())
      throw Error(subject, fmt::format("metadata key '{}' must be an integer or an INT32 array", key));
    if (static_cast<int64_t>(v->ints.size()) != n_layer)
      throw Error(subject, fmt::format("metadata key '{}' has {} entries, expected block_count = {}",
                                       key, v->ints.size(), n_layer));
    for (int64_t x : v->ints)
      if (x != v->ints[0])
        throw Error(subject, fmt::format("metadata key '{}': layers of different sizes are not supported", key));
    return v->ints[0];
  }
  return static_cast<int64_t>(*meta.get_uint(key, subject));
}

int64_t require_uint(const Metadata& meta, const std::string& key, const std::string& subject) {
  auto v = meta.get_uint(key, subject);
  if (!v) throw Error(subject, fmt::format("missing metadata key '{}'", key));
  if (*v > (1ull << 31)) throw Error(subject, fmt::format("metadata key '{}' = {} is out of range", key, *v));
  return static_cast<int64_t>(*v);
}

}  // namespace

ModelConfig config_from_metadata(const Metadata& meta, const std::string& subject) {
  ModelConfig c;
  auto arch = meta.get_string("general.architecture", subject);
  if (!arch) throw Error(subject, "missing metadata key 'general.architecture'");
  if (*arch == "llama") c.arch = Arch::Llama;
  else if (*arch == "qwen2") c.arch = Arch::Qwen2;
  else throw Error(subject, fmt::format("unsupported architecture '{}' (tenx runs llama and qwen2)", *arch));
  const std::string a = *arch;
  c.qkv_bias = c.arch == Arch::Qwen2;

  c.n_embd = require_uint(meta, a + ".embedding_length", subject);
  c.n_layer = require_uint(meta, a + ".block_count", subject);
  if (c.n_embd <= 0) throw Error(subject, "embedding_length must be positive");
  if (c.n_layer <= 0) throw Error(subject, "block_count must be positive");
  c.n_ff = read_uniform(meta, a + ".feed_forward_length", subject, c.n_layer);
  c.n_head = read_uniform(meta, a + ".attention.head_count", subject, c.n_layer);
  c.n_head_kv = meta.contains(a + ".attention.head_count_kv")
                    ? read_uniform(meta, a + ".attention.head_count_kv", subject, c.n_layer)
                    : c.n_head;
  c.n_ctx_train = meta.contains(a + ".context_length") ? require_uint(meta, a + ".context_length", subject) : 2048;
  if (c.n_ff <= 0 || c.n_head <= 0 || c.n_head_kv <= 0)
    throw Error(subject, "feed_forward_length, head_count and head_count_kv must be positive");
  if (c.n_embd % c.n_head != 0)
    throw Error(subject, fmt::format("embedding_length {} is not a multiple of head_count {}", c.n_embd, c.n_head));
  if (c.n_head % c.n_head_kv != 0)
    throw Error(subject, fmt::format("head_count {} is not a multiple of head_count_kv {}", c.n_head, c.n_head_kv));
  c.head_dim = c.n_embd / c.n_head;
  if (meta.contains(a + ".attention.key_length"))
    c.head_dim = require_uint(meta, a + ".attention.key_length", subject);
  c.n_rot = meta.contains(a + ".rope.dimension_count") ? require_uint(meta, a + ".rope.dimension_count", subject)
                                                       : c.head_dim;
  if (c.n_rot <= 0 || c.n_rot > c.head_dim || c.n_rot % 2 != 0)
    throw Error(subject, fmt::format("rope.dimension_count {} must be even and at most the head size {}",
                                     c.n_rot, c.head_dim));
  if (c.arch == Arch::Llama && c.n_rot != c.head_dim)
    throw Error(subject, fmt::format("llama: rope.dimension_count {} must equal the head size {}", c.n_rot, c.head_dim));
  if (auto v = meta.get_float(a + ".rope.freq_base", subject)) c.rope_base = static_cast<float>(*v);
  if (auto v = meta.get_float(a + ".attention.layer_norm_rms_epsilon", subject)) c.rms_eps = static_cast<float>(*v);
  if (!(c.rope_base > 0)) throw Error(subject, "rope.freq_base must be positive");
  if (!(c.rms_eps > 0)) throw Error(subject, "attention.layer_norm_rms_epsilon must be positive");
  return c;
}

}  // namespace tenx
