// qwen3moe (Qwen3 mixture of experts, llama.cpp's LLM_ARCH_QWEN3MOE): qwen3's attention (q/k RMS
// norms per head, NeoX RoPE, head size from attention.key_length) and, on every layer, a
// mixture-of-experts FFN: softmax router over expert_count experts, the top expert_used_count
// kept with their weights renormalised (llama.cpp passes norm_w = true for this family), SwiGLU
// experts of expert_feed_forward_length, no shared expert.
#include "registry.hpp"

namespace tenx::arch {

const Family kQwen3Moe{
    .name = "qwen3moe",
    .hf_names = {"qwen3_moe", "Qwen3MoeForCausalLM"},
    .layer = {.qkv_bias = false, .qk_norm = true, .rope_style = RopeStyle::NeoX, .moe = true},
    .moe = true,
};

}  // namespace tenx::arch
