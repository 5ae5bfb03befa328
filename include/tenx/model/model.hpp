#pragma once
// A decoder model ready to run: the loaded file, its validated configuration and
// named views of every weight. Norm weights and biases (tiny) are converted to
// F32 once at load; matrices stay in their storage type (zero-copy).
#include <string>
#include <vector>

#include "tenx/model/config.hpp"
#include "tenx/model/model_file.hpp"

namespace tenx {

struct LayerWeights {
  const TensorView* attn_norm = nullptr;
  const TensorView* wq = nullptr;
  const TensorView* wk = nullptr;
  const TensorView* wv = nullptr;
  const TensorView* wo = nullptr;
  const TensorView* bq = nullptr;  // qwen2 only
  const TensorView* bk = nullptr;
  const TensorView* bv = nullptr;
  const TensorView* q_norm = nullptr;  // qwen3: [head_dim], applied to every q head
  const TensorView* k_norm = nullptr;
  const TensorView* ffn_norm = nullptr;
  const TensorView* w_gate = nullptr;  // moe: the 3-D expert tensors ffn_{gate,up,down}_exps
  const TensorView* w_up = nullptr;
  const TensorView* w_down = nullptr;
  const TensorView* router = nullptr;  // moe: ffn_gate_inp, [n_embd, n_expert]
  std::vector<TensorView> gate_exps, up_exps, down_exps;  // moe: expert e's 2-D slice of w_gate/up/down
  // llama4: the shared expert ffn_{gate,up,down}_shexp ([n_embd, n_ff_exp], [n_ff_exp, n_embd]).
  const TensorView* gate_shexp = nullptr;
  const TensorView* up_shexp = nullptr;
  const TensorView* down_shexp = nullptr;
  const TensorView* attn_gate = nullptr;  // muse-glimmer: [n_embd, q_dim], sigmoid output gate
  const TensorView* attn_post_norm = nullptr;  // gemma3: post_attention_norm, post_ffw_norm
  const TensorView* ffn_post_norm = nullptr;
  // F32 copies of the vectors above.
  std::vector<float> attn_norm_f32, ffn_norm_f32, bq_f32, bk_f32, bv_f32, q_norm_f32, k_norm_f32;
  std::vector<float> attn_post_norm_f32, ffn_post_norm_f32;
};

struct Model {
  ModelFile file;
  ModelConfig config;
  const TensorView* token_embd = nullptr;
  const TensorView* output_norm = nullptr;
  const TensorView* output = nullptr;  // == token_embd when tied
  const TensorView* rope_freqs = nullptr;  // per-pair RoPE divisors (config.rope_freq_factors)
  std::vector<float> output_norm_f32;
  std::vector<LayerWeights> layers;

  // Loads a GGUF file or Hugging Face directory; throws tenx::Error naming the
  // file and the problem (missing tensor, wrong shape, bad hyper-parameter, a tensor
  // the architecture's description does not use).
  static Model load(const std::string& path);
  static Model from_file(ModelFile file);

  int64_t n_params() const;       // elements of all tensors
  int64_t n_active_params() const;  // per token: a mixture's unchosen experts left out
  uint64_t weight_bytes() const;  // bytes of all tensors
};

}  // namespace tenx
