#pragma once
// The registry of model families. A family is data: the layer it repeats (LayerConfig
// defaults), the tensors and keys it accepts beyond the common llama-style ones, and the names
// Hugging Face gives it. Each family lives in one file under src/model/arch/ and is listed
// once in src/model/arch/registry.cpp; readers, writers, the decoder and the analytic model
// take everything else from ModelConfig (docs/architectures.md).
#include <string>
#include <vector>

#include "tenx/model/config.hpp"

namespace tenx {

struct Family {
  std::string name;                   // general.architecture
  std::vector<std::string> hf_names;  // config.json model_type values and architectures[0] classes
  LayerConfig layer;                  // what every block computes (rope_base comes from the file)
  // Hugging Face stores q/k rows for rotate-half RoPE; a family with normal pairs (llama)
  // needs them permuted into ggml's interleaved layout at conversion.
  bool hf_permute_qk = false;
  // Hugging Face RMSNorm weights stored as w - 1 and applied as (1 + w): llama.cpp's converter
  // adds 1 to every tensor named "*norm.weight" (Gemma 2/3, q/k norms and the final norm
  // included) or only to "*layernorm.weight" (muse-glimmer's four layer norms, not model.norm).
  enum class HfNormShift { None, AllNorms, LayerNorms };
  HfNormShift hf_norm_shift = HfNormShift::None;
  // config.json's tie_word_embeddings when absent (transformers' default for the family).
  bool hf_tied_default = false;
  // Gemma 3: llama.cpp's converter drops the embedding rows beyond the tokenizer's tokens
  // (len(model.vocab) + len(added_tokens) of tokenizer.json, when there is no tokenizer.model).
  bool hf_vocab_from_tokenizer = false;
  // Accepts a rope_freqs tensor (per-pair frequency divisors) and HF rope_scaling "llama3".
  bool rope_freqs = false;
  // RoPE may rotate fewer dims than the head has (rope.dimension_count < head size).
  bool partial_rope = false;
  // Gemma: token embeddings scaled by sqrt(n_embd).
  bool embd_scale = false;
  // Reads attention.sliding_window[_pattern] and rope.freq_base_swa (Gemma 3).
  bool sliding_window = false;
  // The local layers' rope base when rope.freq_base_swa is absent (0: the file's rope.freq_base)
  // and the period when attention.sliding_window_pattern is absent (-1: no local layer).
  float rope_base_swa = 10000.0f;
  int64_t swa_period = 6;
  // muse-glimmer: attention.sliding_window is required, the pattern may be a per-layer bool
  // array, and only the local layers rotate (the global ones are NoPE).
  bool muse_swa = false;
  // muse-glimmer: embeddings RMS-normed (no weights); logit_scale required,
  // final_logit_softcapping read.
  bool embd_norm = false;
  bool logit_scale = false;
  // gemma2: the window when attention.sliding_window is absent (llama.cpp's 4096), local layers
  // keep the model's rope scaling, attn_logit_softcapping (default 50) and
  // final_logit_softcapping (default 30) are read, and the output is always token_embd.
  int64_t default_window = 0;
  bool swa_keeps_rope_scale = false;
  bool softcaps = false;
  bool tied_only = false;
  // Layer count at which llama.cpp scales attention by 1/sqrt(n_embd / n_head) instead of
  // 1/sqrt(head size) (Gemma's 27B query_pre_attn_scalar; 0: never).
  int64_t wide_scale_layers = 0;
  // Mixture-of-experts FFN on every layer (LayerConfig::moe): reads expert_count,
  // expert_used_count and expert_feed_forward_length; feed_forward_length may be absent.
  bool moe = false;
  // llama4: interleave_moe_layer_step decides which layers are experts (with a shared expert,
  // sigmoid routing that scales the expert input); chunked attention and NoPE layers with
  // attention temperature, L2 q/k norms on the RoPE layers (docs/architectures.md).
  bool llama4 = false;
};

// nullptr when unknown.
const Family* find_family(const std::string& name);
// By config.json's model_type, else its architectures[0]; nullptr when neither is known.
const Family* find_hf_family(const std::string& model_type, const std::string& hf_architecture);
// "llama, qwen2, qwen3": for error messages and --help.
std::string family_names();
std::vector<std::string> family_list();

// The family of a configuration; throws tenx::Error(subject, ...) for an unknown name.
const Family& family_of(const std::string& arch, const std::string& subject);

}  // namespace tenx
