// gemma3 (Gemma 3 text, as llama.cpp's LLM_ARCH_GEMMA3): embeddings times sqrt(n_embd); q/k RMS
// norms per head; NeoX RoPE; sandwich norms (post_attention_norm, post_ffw_norm); GeGLU with
// tanh GELU; tied output. With attention.sliding_window, 5 of every 6 layers (the period from
// attention.sliding_window_pattern) attend to the last W positions with rope base 10000
// (rope.freq_base_swa) and no rope scaling. The converter folds Gemma's "1 + weight" into the
// norm weights, so they are applied as every RMS norm's.
#include "registry.hpp"

namespace tenx::arch {

const Family kGemma3{
    .name = "gemma3",
    // Gemma3ForConditionalGeneration: the text part (text_config, language_model.* tensors).
    .hf_names = {"gemma3_text", "gemma3", "Gemma3ForCausalLM", "Gemma3ForConditionalGeneration"},
    .layer = {.qkv_bias = false, .qk_norm = true, .rope_style = RopeStyle::NeoX, .sandwich_norm = true, .gelu_ffn = true},
    .hf_norm_shift = Family::HfNormShift::AllNorms,
    .hf_tied_default = true,
    .hf_vocab_from_tokenizer = true,
    .embd_scale = true,
    .sliding_window = true,
    .wide_scale_layers = 62,
};

}  // namespace tenx::arch
