// llama (Llama 1/2/3.x, SmolLM, TinyLlama, ...): pre-norm blocks, RoPE on (2i, 2i+1) pairs,
// SwiGLU. Llama 3.1+ files carry their rope scaling as a rope_freqs tensor (per-pair
// divisors); Hugging Face configs as rope_scaling {rope_type: llama3 | linear}.
#include "registry.hpp"

namespace tenx::arch {

const Family kLlama{
    .name = "llama",
    .hf_names = {"llama", "LlamaForCausalLM"},
    .layer = {.qkv_bias = false, .qk_norm = false, .rope_style = RopeStyle::Normal},
    .hf_permute_qk = true,
    .rope_freqs = true,
};

}  // namespace tenx::arch
