#pragma once
// The description of a decoder as data (docs/architectures.md): model-wide sizes plus, per
// layer, what that block computes. The decoder's forward pass, the analytic FLOP/byte/memory
// model, the GGUF and Hugging Face readers and the GGUF writer all read or produce this one
// struct; a family (src/model/arch/*.cpp) is a short function from its keys to it.
#include <cstdint>
#include <string>
#include <vector>

#include "tenx/model/metadata.hpp"
#include "tenx/ops/kernels.hpp"

namespace tenx {

// What one transformer block computes. Families with uniform layers copy one value into every
// layer; the fields are per layer because real families vary them (Gemma 3's local/global rope
// base, Llama 4's NoPE layers), and the decoder and the analytic model read them per layer.
struct LayerConfig {
  // Attention block: pre-norm (RMS, weights) -> q, k, v projections [+ biases] [-> per-head
  // RMS norm of q and k, with weights] -> RoPE -> causal softmax attention -> output
  // projection -> residual add.
  bool qkv_bias = false;          // attn_{q,k,v}.bias (qwen2)
  bool qk_norm = false;           // attn_q_norm / attn_k_norm over each head (qwen3)
  RopeStyle rope_style = RopeStyle::Normal;  // pairs (2i, 2i+1) or NeoX (i, i + n_rot/2)
  float rope_base = 10000.0f;
  float rope_freq_scale = 1.0f;  // the model's linear scaling; Gemma 3's local layers keep 1
  // Keys a query attends to: the last sliding_window positions (itself included), as
  // llama.cpp's LLAMA_SWA_TYPE_STANDARD masks them; 0 = every earlier position.
  int64_t sliding_window = 0;
  // sandwich_norm (Gemma): an RMS norm with weights on the attention output and on the FFN
  // output, before each residual add (post_attention_norm, post_ffw_norm).
  bool sandwich_norm = false;
  float post_norm_eps = 0.0f;  // of the sandwich norms; 0 = rms_eps (muse-glimmer: 1e-8)
  // rope = false: no position rotation at all (NoPE; muse-glimmer's global layers).
  bool rope = true;
  // attn_gate (muse-glimmer): attention output times sigmoid(W_gate h), h the attention block's
  // normed input, before the output projection (blk.N.attn_gate.weight, [n_embd, q_dim]).
  bool attn_gate = false;
  // FFN block: pre-norm (RMS, weights) -> SwiGLU, or GeGLU (gelu_tanh(gate) · up) when
  // gelu_ffn (Gemma) -> down -> residual add.
  bool gelu_ffn = false;
  // moe (qwen3moe): the FFN is a mixture of experts instead: a router (ffn_gate_inp, [n_embd,
  // n_expert]) scores every expert, softmax, the top n_expert_used are kept and their
  // probabilities renormalised to sum 1 (llama.cpp's norm_w), and the block's output is the
  // weighted sum of those experts' SwiGLU FFNs (ffn_{gate,up,down}_exps: 3-D, one n_ff_exp-wide
  // FFN per expert). No shared expert.
  bool moe = false;
  // llama4's variant of the mixture (llama.cpp's build_moe_ffn for LLM_ARCH_LLAMA4): the top
  // n_expert_used experts by raw router score, each weighted by sigmoid(score) (not
  // renormalised), and the weight multiplies the expert's INPUT row, not its output.
  bool moe_sigmoid_input = false;
  // shared_expert (llama4, moe layers): a SwiGLU FFN of n_ff_exp every token runs beside the
  // routed experts (ffn_{gate,up,down}_shexp, 2-D), added to their sum.
  bool shared_expert = false;
  // qk_l2_norm (llama4's Llama4TextL2Norm on RoPE layers): every q and k head divided by its
  // RMS (eps rms_eps, no weights) AFTER RoPE, as llama.cpp's ggml_rms_norm there.
  bool qk_l2_norm = false;
  // Chunked attention (llama.cpp's LLAMA_SWA_TYPE_CHUNKED): a query at position p attends to
  // positions from (p / attn_chunk) · attn_chunk up to p only; 0 = every earlier position.
  int64_t attn_chunk = 0;
  // attn_temperature (llama4's NoPE layers): q of the token at position p times
  // log(floor((p + attn_temp_offset) / attn_temp_floor) + 1) · attn_temp_scale + 1 (ModelConfig).
  bool attn_temperature = false;
};

struct ModelConfig {
  std::string arch = "llama";  // general.architecture (a registered family, model/arch.hpp)
  int64_t n_vocab = 0;
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;  // of q, k and v (attention.key_length; may differ from n_embd / n_head)
  int64_t n_rot = 0;
  int64_t n_ff = 0;
  int64_t n_ctx_train = 0;
  float rope_base = 10000.0f;  // every layer's, unless a family sets layers[l].rope_base apart
  float rms_eps = 1e-5f;
  bool tied_output = false;  // no output.weight: logits use token_embd
  bool qkv_bias = false;     // the family's default for LayerConfig::qkv_bias
  // RoPE frequency scaling, the same for every layer: theta_i = pos * freq_scale * base^(-2i/n_rot)
  // / freq_factors[i]. freq_scale = 1 / factor of "linear" scaling; freq_factors: n_rot/2
  // divisors from a rope_freqs tensor (Llama 3.1+ GGUF) or computed from a Hugging Face
  // rope_scaling {rope_type: llama3} at load; empty = all 1.
  float rope_freq_scale = 1.0f;
  std::vector<float> rope_freq_factors;
  // Gemma: token embeddings times sqrt(n_embd) (rows given as embeddings are not scaled).
  bool embd_scale = false;
  // Scale of the attention scores; 0 = 1/sqrt(head_dim). Gemma 3 27B (62 layers): 1/sqrt(n_embd
  // / n_head), as llama.cpp decides it from the layer count.
  float attn_scale = 0.0f;
  // Gemma 3 sliding-window attention: window (0 = none: every layer global, the file's rope
  // base), period (layer l is local unless l % period == period - 1) and the local layers'
  // rope base (unscaled). A period of -1 (muse-glimmer without a pattern key): no local layer.
  int64_t sliding_window = 0;
  int64_t swa_period = 6;
  float rope_base_swa = 10000.0f;
  // muse-glimmer: a per-layer sliding-window flag (attention.sliding_window_pattern as a bool
  // array, as its converter writes it); empty = the period above decides.
  std::vector<uint8_t> swa_layers;
  // muse-glimmer: the embeddings go through an RMS norm without weights (rms_eps).
  bool embd_norm = false;
  // Logits times logit_scale (1 = none), then tanh soft-capped at final_softcap (0 = none):
  // cap · tanh(logit / cap), as llama.cpp's ggml_scale / ggml_tanh / ggml_scale.
  float logit_scale = 1.0f;
  float final_softcap = 0.0f;
  // gemma2: attention scores (after scaling) soft-capped at attn_softcap (0 = none).
  float attn_softcap = 0.0f;
  // Mixture of experts (layers with moe): expert_count, expert_used_count and each expert's
  // FFN width (expert_feed_forward_length); 0 for dense models.
  int64_t n_expert = 0;
  int64_t n_expert_used = 0;
  int64_t n_ff_exp = 0;
  // llama4: layer l is a mixture of experts when (l + 1) % moe_layer_step == 0
  // (interleave_moe_layer_step; the others dense SwiGLU of n_ff), NoPE with attention
  // temperature when (l + 1) % nope_layer_step == 0, chunked (attn_chunk) when the period
  // swa_period says it is local; the constants are llama.cpp's (it reads no key for them).
  int64_t moe_layer_step = 0;
  int64_t nope_layer_step = 0;
  int64_t attn_chunk = 0;
  float attn_temp_scale = 0.0f;
  float attn_temp_offset = 0.0f;
  int64_t attn_temp_floor = 0;
  std::vector<LayerConfig> layers;  // n_layer entries (describe() fills them)

  int64_t q_dim() const { return n_head * head_dim; }
  int64_t kv_dim() const { return n_head_kv * head_dim; }
  const LayerConfig& layer(int64_t l) const { return layers[static_cast<size_t>(l)]; }
};

// The family name, for tables and reports.
inline const std::string& arch_name(const std::string& arch) { return arch; }

// Reads and validates the hyper-parameters (n_vocab, tied_output and rope_freq_factors are
// filled in by the model loader from the tensors). Every {arch}.* key must be understood: one
// that would change the computation and is not part of the family's description is an error,
// never ignored. Throws tenx::Error(subject, ...). A block_count above max_layers (the file's
// tensor count: every layer has several) leaves `layers` empty rather than sizing anything by
// a hostile header; the loader then fails at the first missing layer tensor.
ModelConfig config_from_metadata(const Metadata& meta, const std::string& subject,
                                 int64_t max_layers = int64_t{1} << 31);

// Fills config.layers from the family's defaults (model/arch.hpp) and the model-wide fields.
// Called by every reader; idempotent.
void describe_layers(ModelConfig& config);

// The one writer of the hyper-parameter keys ({arch}.*, general.architecture) for a
// description: used by `tenx convert`, `tenx model init` and the trainer's export. The
// rope_freqs tensor, when there are factors, is the caller's to write (it is a tensor).
void set_hparams(Metadata& meta, const ModelConfig& config);

// Per-pair RoPE divisors of Llama 3.1's "llama3" rope scaling, as Hugging Face computes its
// inverse frequencies and convert_hf_to_gguf writes rope_freqs: pairs whose wavelength is
// below original_ctx / high_freq_factor keep 1, above original_ctx / low_freq_factor get
// `factor`, and those between are interpolated smoothly.
std::vector<float> llama3_rope_factors(int64_t n_rot, float base, double factor, double low_freq_factor,
                                       double high_freq_factor, double original_ctx);

}  // namespace tenx
