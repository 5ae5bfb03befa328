// llama4 (Llama 4 text, as llama.cpp's LLM_ARCH_LLAMA4, src/models/llama4.cpp): llama's block
// (normal RoPE pairs, rope_freqs factors) with, per layer: a mixture of experts every
// interleave_moe_layer_step-th layer (top-k by router score, sigmoid weight times the expert's
// input, plus a shared expert), dense SwiGLU on the others; chunked attention (8192 positions,
// llama.cpp's constant) on the local layers of the attention.sliding_window_pattern period
// (default 4); NoPE on every 4th layer, whose q is scaled by the attention temperature; an RMS
// norm without weights on q and k after RoPE on the other layers (not for 128 experts, as
// llama.cpp decides use_kq_norm from the model type). The layer pattern is in describe_layers.
#include "registry.hpp"

namespace tenx::arch {

const Family kLlama4{
    .name = "llama4",
    // Llama4ForConditionalGeneration: the text part (text_config, language_model.* tensors). Its
    // q/k rows are already in interleaved-pair order (transformers rotates complex pairs), so
    // they are not permuted; the stacked experts are split and transposed (hf_loader.cpp).
    .hf_names = {"llama4_text", "llama4", "Llama4ForCausalLM", "Llama4ForConditionalGeneration"},
    .layer = {.qkv_bias = false, .qk_norm = false, .rope_style = RopeStyle::Normal},
    .rope_freqs = true,
    .rope_base_swa = 0.0f,  // llama.cpp: rope_freq_base_train_swa = rope_freq_base_train when absent
    .swa_period = 4,        // 3 chunked : 1 full
    .moe = true,
    .llama4 = true,
};

}  // namespace tenx::arch
