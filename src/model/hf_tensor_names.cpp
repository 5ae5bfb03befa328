#include "hf_tensor_names.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "tenx/util/error.hpp"

namespace tenx::hf {
namespace {

// Which families a per-layer name belongs to: the same Hugging Face name means another GGUF
// tensor in a family with sandwich norms (Gemma: post_attention_layernorm is the attention's
// post-norm there, the FFN's pre-norm elsewhere), as in llama.cpp's per-architecture tensor maps.
enum class Only { Any, Sandwich, NotSandwich, Llama4 };

struct LayerName {
  const char* hf;
  const char* gguf;
  Only only = Only::Any;
};

constexpr LayerName kLayer[] = {
    {"input_layernorm.weight", "attn_norm.weight"},
    {"self_attn.q_proj.weight", "attn_q.weight"},
    {"self_attn.q_proj.bias", "attn_q.bias"},
    {"self_attn.k_proj.weight", "attn_k.weight"},
    {"self_attn.k_proj.bias", "attn_k.bias"},
    {"self_attn.v_proj.weight", "attn_v.weight"},
    {"self_attn.v_proj.bias", "attn_v.bias"},
    {"self_attn.o_proj.weight", "attn_output.weight"},
    {"self_attn.o_proj.bias", "attn_output.bias"},
    {"self_attn.q_norm.weight", "attn_q_norm.weight"},
    {"self_attn.k_norm.weight", "attn_k_norm.weight"},
    {"self_attn.gate_proj.weight", "attn_gate.weight"},  // muse-glimmer's attention output gate
    {"post_attention_layernorm.weight", "ffn_norm.weight", Only::NotSandwich},
    {"post_attention_layernorm.weight", "post_attention_norm.weight", Only::Sandwich},
    {"pre_feedforward_layernorm.weight", "ffn_norm.weight", Only::Sandwich},
    {"pre_mlp_layernorm.weight", "ffn_norm.weight", Only::Sandwich},
    {"post_feedforward_layernorm.weight", "post_ffw_norm.weight", Only::Sandwich},
    {"post_mlp_layernorm.weight", "post_ffw_norm.weight", Only::Sandwich},
    {"mlp.gate_proj.weight", "ffn_gate.weight"},
    {"mlp.up_proj.weight", "ffn_up.weight"},
    {"mlp.down_proj.weight", "ffn_down.weight"},
    {"mlp.gate.weight", "ffn_gate_inp.weight"},
    {"feed_forward.gate_proj.weight", "ffn_gate.weight", Only::Llama4},
    {"feed_forward.up_proj.weight", "ffn_up.weight", Only::Llama4},
    {"feed_forward.down_proj.weight", "ffn_down.weight", Only::Llama4},
    {"feed_forward.router.weight", "ffn_gate_inp.weight", Only::Llama4},
    {"feed_forward.shared_expert.gate_proj.weight", "ffn_gate_shexp.weight", Only::Llama4},
    {"feed_forward.shared_expert.up_proj.weight", "ffn_up_shexp.weight", Only::Llama4},
    {"feed_forward.shared_expert.down_proj.weight", "ffn_down_shexp.weight", Only::Llama4},
};
// Expert tensors come after the layer's named ones: qwen3_moe's mlp.experts.E.{gate,up,down}_proj
// are stacked into one 3-D tensor each (stack_experts, named here with the expert's index after a
// '#'); llama4's feed_forward.experts.{gate_up_proj, down_proj} are already stacked and are split
// and transposed (hf_tensor_ops.hpp).
constexpr std::pair<const char*, const char*> kExpert[] = {
    {"gate_proj.weight", "ffn_gate_exps.weight"}, {"down_proj.weight", "ffn_down_exps.weight"},
    {"up_proj.weight", "ffn_up_exps.weight"}};
constexpr int64_t kPerLayer = 100;

bool applies(Only only, const Family& fam) {
  switch (only) {
    case Only::Any: return true;
    case Only::Sandwich: return fam.layer.sandwich_norm;
    case Only::NotSandwich: return !fam.layer.sandwich_norm;
    case Only::Llama4: return fam.llama4;
  }
  return false;
}

}  // namespace

std::string text_model_name(std::string hf) {
  for (size_t at; (at = hf.find("language_model.")) != std::string::npos;) hf.erase(at, 15);
  return hf;
}

bool multimodal_tensor(const std::string& hf) {
  for (const char* part : {"vision_", "vision.", "visual.", "projector.", "audio_", "audio."})
    if (hf.find(part) != std::string::npos) return true;
  return false;
}

MappedName gguf_name(const std::string& subject, const std::string& hf, const Family& fam, int64_t n_layer,
                     bool multimodal) {
  const int64_t end = kPerLayer * (n_layer + 1);
  if (hf.ends_with("rotary_emb.inv_freq") || (multimodal && multimodal_tensor(hf))) return {"", 0, MappedName::Skip};
  if (hf == "model.embed_tokens.weight") return {"token_embd.weight", 0};
  if (hf == "model.norm.weight") return {"output_norm.weight", end};
  if (hf == "lm_head.weight") {
    if (fam.tied_only) return {"", 0, MappedName::Skip};  // gemma2: the output is token_embd
    return {"output.weight", end + 1};
  }
  const std::string prefix = "model.layers.";
  if (hf.starts_with(prefix)) {
    const size_t dot = hf.find('.', prefix.size());
    const std::string idx = hf.substr(prefix.size(), dot == std::string::npos ? 0 : dot - prefix.size());
    if (!idx.empty() && idx.size() < 10 && std::all_of(idx.begin(), idx.end(), ::isdigit)) {
      const int64_t layer = static_cast<int64_t>(std::stoull(idx));
      if (layer >= n_layer)
        throw Error(subject, fmt::format("tensor '{}' belongs to layer {} but the model has {} layers", hf, layer, n_layer));
      const std::string rest = hf.substr(dot + 1);
      const int64_t base = kPerLayer * (layer + 1);
      const auto n_named = static_cast<int64_t>(std::size(kLayer));
      for (int64_t k = 0; k < n_named; ++k)
        if (rest == kLayer[k].hf && applies(kLayer[k].only, fam))
          return {fmt::format("blk.{}.{}", layer, kLayer[k].gguf), base + k};
      if (fam.llama4 && rest == "feed_forward.experts.gate_up_proj")
        return {fmt::format("blk.{}.ffn_gate_exps.weight", layer), base + n_named, MappedName::Llama4GateUp};
      if (fam.llama4 && rest == "feed_forward.experts.down_proj")
        return {fmt::format("blk.{}.ffn_down_exps.weight", layer), base + n_named + 1, MappedName::Llama4Down};
      const std::string experts = "mlp.experts.";
      if (!fam.llama4 && rest.starts_with(experts)) {
        const size_t edot = rest.find('.', experts.size());
        const std::string e = rest.substr(experts.size(), edot == std::string::npos ? 0 : edot - experts.size());
        if (!e.empty() && e.size() < 6 && std::all_of(e.begin(), e.end(), ::isdigit))
          for (size_t k = 0; k < std::size(kExpert); ++k)
            if (rest.substr(edot + 1) == kExpert[k].first)
              return {fmt::format("blk.{}.{}#{}", layer, kExpert[k].second, e),
                      base + n_named + static_cast<int64_t>(k), MappedName::Expert2D};
      }
    }
  }
  throw Error(subject, fmt::format("tensor '{}' has no GGUF name in tenx's {} description", hf, fam.name));
}

}  // namespace tenx::hf
