#pragma once
// Deterministic random models for tests and benchmarks: weights of any family (model/arch.hpp)
// drawn from a seeded generator that gives the same bits on every machine, and a
// byte-level BPE ("gpt2") vocabulary that llama.cpp accepts.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tenx/model/model_file.hpp"

namespace tenx {

struct ModelInitSpec {
  std::string arch = "llama";  // a family (model/arch.hpp): qwen2 gets q/k/v biases, qwen3 q/k norms,
                               // gemma3 q/k norms and sandwich norms, muse-glimmer also attn_gate
  int64_t n_embd = 64;
  int64_t n_layer = 2;
  int64_t n_head = 4;
  int64_t n_head_kv = 0;  // 0: same as n_head
  int64_t n_ff = 176;
  int64_t n_vocab = 512;  // >= 258: 256 byte tokens + <|endoftext|>, the rest merges
  int64_t n_ctx = 2048;
  uint64_t seed = 0;
  DType type = DType::F32;  // matrices; norms and biases stay F32
  bool tied = false;        // no output.weight: the output reuses token_embd
  float rope_base = 10000.0f;
  float rms_eps = 1e-5f;
  int64_t head_dim = 0;  // 0: n_embd / n_head; otherwise written as attention.key_length
  // RoPE scaling: "none", "linear" (rope.scaling.* keys) or "llama3" (a rope_freqs tensor of
  // per-pair divisors computed as Llama 3.1's converter does, llama only).
  std::string rope_scaling = "none";
  double rope_factor = 8.0, rope_low_freq = 1.0, rope_high_freq = 4.0, rope_orig_ctx = 8192.0;
  // Matrices are N(0, init_scale² / fan_in). 1 keeps activations at unit scale; the
  // Hugging Face reference models in ../shared use 0.08·N(0,1) at width 64, i.e. 0.64.
  double init_scale = 1.0;
  // gemma3: attention.sliding_window (0: none, every layer global), the period of the
  // global layers (llama.cpp's 6 when absent) and the local layers' rope base.
  int64_t sliding_window = 0;
  int64_t swa_period = 6;
  float rope_base_swa = 10000.0f;
  // muse-glimmer: logits times logit_scale, then soft-capped at final_softcap (0: none).
  float logit_scale = 1.0f;
  float final_softcap = 0.0f;
  // gemma2: the attention soft-cap; 0 for either cap means llama.cpp's default (50, 30).
  float attn_softcap = 0.0f;
  // qwen3moe: experts per layer, experts each token runs, and each expert's FFN width
  // (0: n_ff / n_expert_used, as llama.cpp derives it).
  int64_t n_expert = 0;
  int64_t n_expert_used = 0;
  int64_t n_ff_exp = 0;
  // llama4: every moe_layer_step-th layer is a mixture of experts (interleave_moe_layer_step),
  // the others dense SwiGLU of n_ff; the shared expert is n_ff_exp wide.
  int64_t moe_layer_step = 1;
  std::string name;  // general.name; default "tenx-random-<arch>"
  // A chat template written as tokenizer.chat_template (empty: none), and control tokens it
  // writes (e.g. "<|im_start|>", "<|im_end|>"): they replace the vocabulary's last merged tokens
  // (whose merges are dropped), so the template's markers are one token each (docs/protocols.md).
  std::string chat_template;
  std::vector<std::string> control_tokens;
};

// Weights, all from std::mt19937_64 through splitmix64-derived per-tensor seeds and
// an explicit Box-Muller transform (no std:: distributions, whose output differs
// between standard libraries):
//   norms          1 + 0.1 N(0,1)
//   biases         0.1 N(0,1)
//   matrices       N(0,1) / sqrt(ne[0])  (fan-in scaling: activations and logits stay O(1),
//                                         also for a tied output that reuses token_embd)
// Throws tenx::Error("model init", ...) for inconsistent sizes.
ModelFile make_random_model(const ModelInitSpec& spec);

// make_random_model + write_gguf.
void write_random_model(const std::string& path, const ModelInitSpec& spec);

struct ByteLevelVocab {
  std::vector<std::string> tokens;  // 256 bytes (GPT-2 byte-to-unicode order), specials, merges
  std::vector<int64_t> token_types; // 1 normal, 3 control
  std::vector<std::string> merges;  // "A B", rank = index; each result A+B is a token
  int64_t eos_id = 256;             // <|endoftext|> (also bos)
};

// Merges come from byte-pair training on a built-in English paragraph, then, once
// its pairs are exhausted, from concatenating earlier merged tokens in a fixed
// diagonal order. Throws tenx::Error when n_vocab < 257 + 1 (at least one merge).
ByteLevelVocab make_byte_level_vocab(int64_t n_vocab);

// For a model without a tokenizer (tenx convert of a Hugging Face directory with no
// tokenizer.json): a "gpt2" vocabulary in which token b < 256 is byte b, further ids
// are unused "[PADi]" entries, with one merge (llama.cpp refuses a gpt2 vocabulary
// without merges; text then tokenizes to plain bytes), and tenx.placeholder_vocab =
// true. Needs n_vocab >= 256. bos/eos are recorded when given and below n_vocab.
void add_placeholder_vocab(Metadata& meta, int64_t n_vocab, std::optional<int64_t> bos, std::optional<int64_t> eos);

// GPT-2's bytes_to_unicode: the UTF-8 text of byte b's token.
std::string gpt2_byte_token(uint8_t b);

}  // namespace tenx
