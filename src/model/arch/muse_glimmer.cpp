// muse-glimmer (Meta's Muse Glimmer text model, as llama.cpp's LLM_ARCH_MUSE_GLIMMER): the
// embeddings go through an RMS norm without weights; per layer attn_norm -> q/k/v -> per-head
// q/k RMS norms -> RoPE (normal pairs) on the sliding-window layers only, NoPE on the global
// ones -> attention (1/sqrt(head size)) -> times sigmoid(attn_gate · attn_norm output) ->
// attn_output -> post_attention_norm (eps 1e-8) -> residual; ffn_norm -> SwiGLU ->
// post_ffw_norm (eps 1e-8) -> residual; output norm; output; times logit_scale; optional tanh
// soft-cap (final_logit_softcapping). The converter folds "1 + weight" into the four layer
// norms and absorbs qk_scale_factor into attn_q_norm, so every norm is applied as stored.
#include "registry.hpp"

namespace tenx::arch {

const Family kMuseGlimmer{
    .name = "muse-glimmer",
    // The converter registers the class only (the text part; vision tensors are skipped). Hugging
    // Face has no q/k norm tensors: the loader synthesizes them from qk_scale_factor.
    .hf_names = {"MuseGlimmerForConditionalGeneration"},
    .layer = {.qkv_bias = false, .qk_norm = true, .rope_style = RopeStyle::Normal, .sandwich_norm = true,
              .post_norm_eps = 1e-8f, .attn_gate = true},
    .hf_permute_qk = true,
    .hf_norm_shift = Family::HfNormShift::LayerNorms,
    .sliding_window = true,
    .rope_base_swa = 0.0f,  // llama.cpp: rope_freq_base_train_swa = rope_freq_base_train when absent
    .swa_period = -1,       // no pattern key: is_swa stays false on every layer
    .muse_swa = true,
    .embd_norm = true,
    .logit_scale = true,
};

}  // namespace tenx::arch
