// qwen2 (Qwen2, Qwen2.5): llama's block with q/k/v biases and NeoX RoPE pairs.
#include "registry.hpp"

namespace tenx::arch {

const Family kQwen2{
    .name = "qwen2",
    .hf_names = {"qwen2", "Qwen2ForCausalLM"},
    .layer = {.qkv_bias = true, .qk_norm = false, .rope_style = RopeStyle::NeoX},
    .partial_rope = true,
};

}  // namespace tenx::arch
