#pragma once
// Hyper-parameters of a llama/qwen2 decoder, read from GGUF metadata
// ({arch}.* keys, ../shared/docs/gguf.md §3) and checked for consistency.
#include <cstdint>
#include <string>

#include "tenx/model/metadata.hpp"

namespace tenx {

enum class Arch { Llama, Qwen2 };
const char* arch_name(Arch a);

struct ModelConfig {
  Arch arch = Arch::Llama;
  int64_t n_vocab = 0;
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;
  int64_t n_rot = 0;
  int64_t n_ff = 0;
  int64_t n_ctx_train = 0;
  float rope_base = 10000.0f;
  float rms_eps = 1e-5f;
  bool tied_output = false;  // no output.weight: logits use token_embd
  bool qkv_bias = false;     // qwen2

  int64_t q_dim() const { return n_head * head_dim; }
  int64_t kv_dim() const { return n_head_kv * head_dim; }
};

// Reads and validates the hyper-parameters (n_vocab and tied_output are filled
// in by the model loader from the tensors). Throws tenx::Error(subject, ...).
ModelConfig config_from_metadata(const Metadata& meta, const std::string& subject);

}  // namespace tenx
