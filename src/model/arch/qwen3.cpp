// qwen3 (Qwen3 dense): no biases, an RMS norm with weights over every q and k head before RoPE
// (attn_q_norm, attn_k_norm: head_dim weights each), NeoX pairs; the head size comes from
// attention.key_length (Hugging Face head_dim) and may differ from n_embd / n_head.
#include "registry.hpp"

namespace tenx::arch {

const Family kQwen3{
    .name = "qwen3",
    .hf_names = {"qwen3", "Qwen3ForCausalLM"},
    .layer = {.qkv_bias = false, .qk_norm = true, .rope_style = RopeStyle::NeoX},
};

}  // namespace tenx::arch
