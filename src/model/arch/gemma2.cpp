// gemma2 (Gemma 2, as llama.cpp's LLM_ARCH_GEMMA2, src/models/gemma2.cpp): embeddings times
// sqrt(n_embd); NeoX RoPE; no q/k norms; attention scores soft-capped (attn_logit_softcapping,
// default 50) before the softmax; sandwich norms; GeGLU with tanh GELU; output always
// token_embd; logits soft-capped (final_logit_softcapping, default 30). Every other layer is
// local (attention.sliding_window_pattern, default 2: layer l local unless l % 2 == 1) with a
// window of attention.sliding_window (default 4096), rope.freq_base_swa (default: the model's
// base) and the model's rope scaling. The converter folds Gemma's "1 + weight" into the norms.
#include "registry.hpp"

namespace tenx::arch {

const Family kGemma2{
    .name = "gemma2",
    .hf_names = {"gemma2", "Gemma2ForCausalLM"},
    .layer = {.qkv_bias = false, .qk_norm = false, .rope_style = RopeStyle::NeoX, .sandwich_norm = true, .gelu_ffn = true},
    .hf_norm_shift = Family::HfNormShift::AllNorms,
    .hf_tied_default = true,
    .embd_scale = true,
    .sliding_window = true,
    .rope_base_swa = 0.0f,  // llama.cpp: rope_freq_base_train_swa = rope_freq_base_train
    .swa_period = 2,
    .default_window = 4096,
    .swa_keeps_rope_scale = true,
    .softcaps = true,
    .tied_only = true,
    .wide_scale_layers = 46,
};

}  // namespace tenx::arch
