// config.json -> ModelConfig (docs/architectures.md lists the keys per family).
#include "tenx/model/hf_config.hpp"

#include <fmt/format.h>

#include <optional>

#include "hf_config_keys.hpp"
#include "tenx/model/arch.hpp"
#include "tenx/util/error.hpp"

namespace tenx {
namespace hf {

std::optional<std::vector<std::string>> layer_types(const std::string& subject, const json& cfg, int64_t n_layer) {
  if (!has(cfg, "layer_types")) return std::nullopt;
  const json& lt = cfg["layer_types"];
  if (!lt.is_array() || static_cast<int64_t>(lt.size()) != n_layer)
    throw Error(subject, fmt::format("'layer_types' must be an array of {} strings (one per layer)", n_layer));
  std::vector<std::string> out;
  for (const json& x : lt) {
    if (!x.is_string()) throw Error(subject, fmt::format("'layer_types' entry {} is not a string", x.dump()));
    out.push_back(x.get<std::string>());
  }
  return out;
}

const json* rope_object(const std::string& subject, const json& cfg, const char* layer_type) {
  for (const char* key : {"rope_parameters", "rope_scaling"}) {
    if (!has(cfg, key)) continue;
    if (!cfg[key].is_object())
      throw Error(subject, fmt::format("'{}' must be an object or null, got {}", key, cfg[key].dump()));
    const json& r = cfg[key];
    if (r.contains("full_attention") || r.contains("sliding_attention")) {
      if (!r.contains(layer_type)) return nullptr;
      if (!r[layer_type].is_object())
        throw Error(subject, fmt::format("'{}.{}' must be an object, got {}", key, layer_type, r[layer_type].dump()));
      return &r[layer_type];
    }
    return std::string(layer_type) == "full_attention" ? &r : nullptr;
  }
  return nullptr;
}

}  // namespace hf

namespace {

using nlohmann::json;
using hf::cfg_float;
using hf::cfg_string;
using hf::cfg_uint;

// rope_scaling (or transformers 5's rope_parameters) -> per-pair factors or a linear scale.
void read_rope_scaling(const std::string& subject, const json& cfg, const Family& fam, ModelConfig& c) {
  const json* rs = hf::rope_object(subject, cfg, "full_attention");
  if (!rs) return;
  std::string type = cfg_string(*rs, "rope_type");
  if (type.empty()) type = cfg_string(*rs, "type");
  if (type.empty() || type == "default") return;  // rope_parameters {rope_theta, rope_type: default}
  const double factor = cfg_float(subject, *rs, "factor", 0.0);
  if (!(factor > 0)) throw Error(subject, fmt::format("rope_scaling '{}' needs a positive 'factor'", type));
  if (type == "linear") {
    c.rope_freq_scale = static_cast<float>(1.0 / factor);
  } else if (type == "llama3" && fam.rope_freqs) {
    const double low = cfg_float(subject, *rs, "low_freq_factor", 1.0);
    const double high = cfg_float(subject, *rs, "high_freq_factor", 4.0);
    const double orig = cfg_float(subject, *rs, "original_max_position_embeddings", 8192.0);
    // Llama 4 publishes low_freq_factor == high_freq_factor (1.0): every pair is either kept or
    // scaled, none interpolated (convert_hf_to_gguf comments out its assert for that reason).
    if (!(low > 0) || !(high >= low) || !(orig > 0))
      throw Error(subject, "rope_scaling llama3 needs 0 < low_freq_factor <= high_freq_factor and a positive "
                           "original_max_position_embeddings");
    c.rope_freq_factors = llama3_rope_factors(c.n_rot, c.rope_base, factor, low, high, orig);
  } else {
    throw Error(subject, fmt::format("rope_scaling type '{}' is not supported for {} (tenx computes linear{})", type,
                                     c.arch, fam.rope_freqs ? " and llama3" : ""));
  }
}

// qwen3_moe: num_experts, num_experts_per_tok, moe_intermediate_size. Every layer must be
// sparse (decoder_sparse_step 1, no mlp_only_layers) and the top-k weights renormalised
// (norm_topk_prob true): llama.cpp's qwen3moe computes exactly that, and so does tenx.
void read_experts(const std::string& subject, const json& cfg, ModelConfig& c) {
  hf::read_expert_counts(subject, cfg, "num_experts", c);
  c.n_ff_exp = cfg_uint(subject, cfg, "moe_intermediate_size");
  if (cfg_uint(subject, cfg, "decoder_sparse_step", 1) != 1)
    throw Error(subject, "'decoder_sparse_step' other than 1 (dense layers between the sparse ones) is not supported");
  if (cfg.contains("mlp_only_layers") && !cfg["mlp_only_layers"].is_null() &&
      !(cfg["mlp_only_layers"].is_array() && cfg["mlp_only_layers"].empty()))
    throw Error(subject, "'mlp_only_layers' (dense layers in a mixture of experts) is not supported");
  if (cfg.contains("norm_topk_prob") && !(cfg["norm_topk_prob"].is_boolean() && cfg["norm_topk_prob"].get<bool>()))
    throw Error(subject, fmt::format("'norm_topk_prob': {} is not supported (tenx, as llama.cpp's qwen3moe, "
                                     "renormalises the chosen experts' weights)", cfg["norm_topk_prob"].dump()));
  if (cfg.contains("shared_expert_intermediate_size") && cfg_uint(subject, cfg, "shared_expert_intermediate_size", 0) > 0)
    throw Error(subject, "a shared expert is not part of tenx's qwen3moe description");
}

// Gemma 3 text configs inside a Gemma3ForConditionalGeneration often leave keys at
// transformers' defaults; these are the defaults llama.cpp's converter assumes (and
// Gemma3TextConfig's vocab_size, which the converter takes from the tensor).
void add_gemma3_defaults(json& t) {
  const std::pair<const char*, json> kDefaults[] = {  // unsigned: cfg_uint reads them
      {"num_attention_heads", 8u}, {"num_key_value_heads", 4u},       {"head_dim", 256u},
      {"rms_norm_eps", 1e-6},      {"max_position_embeddings", 131072u}, {"rope_theta", 1000000.0},
      {"vocab_size", 262208u}};
  for (const auto& [key, value] : kDefaults)
    if (!hf::has(t, key)) t[key] = value;
}

// The activation of the FFN is part of the family: SwiGLU (silu) or GeGLU with tanh GELU.
void check_activation(const std::string& subject, const json& t, const Family& fam) {
  const std::string expected = fam.layer.gelu_ffn ? "gelu_pytorch_tanh" : "silu";
  for (const char* key : {"hidden_act", "hidden_activation"}) {
    if (!hf::has(t, key)) continue;
    if (cfg_string(t, key) != expected)
      throw Error(subject, fmt::format("'{}': {} is not part of tenx's {} description (its FFN uses {})", key,
                                       t[key].dump(), fam.name, expected));
  }
}

}  // namespace

nlohmann::json hf_text_config(const nlohmann::json& cfg) {
  if (!cfg.is_object() || !cfg.contains("text_config") || !cfg["text_config"].is_object()) return cfg;
  json merged = cfg;  // llama.cpp's converter: {**config, **config["text_config"]}
  for (const auto& [key, value] : cfg["text_config"].items()) merged[key] = value;
  return merged;
}

ModelConfig config_from_hf(const nlohmann::json& top, const std::string& subject) {
  // json::value() throws a type_error for a present key of another type (TENX_FUZZ_STRICT=1 on
  // tests/fuzz/hf_fuzz.cpp): mistyped fields get this file's own messages instead.
  const std::string model_type = cfg_string(top, "model_type");
  std::string hf_arch;
  if (top.contains("architectures") && top["architectures"].is_array() && !top["architectures"].empty() &&
      top["architectures"][0].is_string())
    hf_arch = top["architectures"][0].get<std::string>();
  const Family* fam = find_hf_family(model_type, hf_arch);
  if (!fam)
    throw Error(subject, fmt::format("unsupported architecture (model_type '{}', architectures[0] '{}'); tenx reads {}",
                                     model_type, hf_arch, family_names()));
  // A ConditionalGeneration (Gemma 3, Llama 4, Muse Glimmer) keeps its text model in text_config.
  json cfg = hf_text_config(top);
  if (fam->name == "gemma3") add_gemma3_defaults(cfg);
  ModelConfig c;
  c.arch = fam->name;
  c.n_embd = cfg_uint(subject, cfg, "hidden_size");
  c.n_layer = cfg_uint(subject, cfg, "num_hidden_layers");
  c.n_head = cfg_uint(subject, cfg, "num_attention_heads");
  c.n_head_kv = cfg_uint(subject, cfg, "num_key_value_heads", c.n_head);
  c.n_ff = cfg_uint(subject, cfg, "intermediate_size");
  if (fam->moe && !fam->llama4) read_experts(subject, cfg, c);
  c.n_ctx_train = cfg_uint(subject, cfg, "max_position_embeddings", 2048);
  c.n_vocab = cfg_uint(subject, cfg, "vocab_size");
  c.head_dim = cfg_uint(subject, cfg, "head_dim", c.n_embd / c.n_head);
  if (c.head_dim <= 0) throw Error(subject, "head_dim must be positive");
  c.n_rot = c.head_dim;
  c.rms_eps = static_cast<float>(cfg_float(subject, cfg, "rms_norm_eps", 1e-6));
  double base = cfg_float(subject, cfg, "rope_theta", 10000.0);
  if (const json* rp = hf::rope_object(subject, cfg, "full_attention")) base = cfg_float(subject, *rp, "rope_theta", base);
  c.rope_base = static_cast<float>(base);
  if (!(c.rope_base > 0)) throw Error(subject, "'rope_theta' must be positive");
  if (cfg.contains("tie_word_embeddings") && !cfg["tie_word_embeddings"].is_boolean() &&
      !cfg["tie_word_embeddings"].is_null())
    throw Error(subject, fmt::format("'tie_word_embeddings' must be true or false, got {}",
                                     cfg["tie_word_embeddings"].dump()));
  c.tied_output = cfg.contains("tie_word_embeddings") && cfg["tie_word_embeddings"].is_boolean()
                      ? cfg["tie_word_embeddings"].get<bool>()
                      : fam->hf_tied_default;
  if (fam->tied_only) c.tied_output = true;  // gemma2: llama.cpp's converter drops lm_head
  if (c.n_head % c.n_head_kv != 0)
    throw Error(subject, fmt::format("num_attention_heads {} is not a multiple of num_key_value_heads {}", c.n_head,
                                     c.n_head_kv));
  if (c.head_dim % 2 != 0) throw Error(subject, fmt::format("head_dim {} is odd; RoPE needs pairs", c.head_dim));
  // Biases are part of the family's description (qwen2 has them, qwen3 and llama do not); a
  // config asking for others would change the computation.
  for (const char* key : {"attention_bias", "mlp_bias"})
    if (cfg.contains(key) && cfg[key].is_boolean() && cfg[key].get<bool>() &&
        !(std::string(key) == "attention_bias" && fam->layer.qkv_bias))
      throw Error(subject, fmt::format("'{}': true is not part of tenx's {} description", key, c.arch));
  // Qwen2/Qwen3 configs carry "use_sliding_window": false; true would change the attention.
  if (cfg.contains("use_sliding_window") && cfg["use_sliding_window"].is_boolean() &&
      cfg["use_sliding_window"].get<bool>())
    throw Error(subject, fmt::format("'use_sliding_window': true is not part of tenx's {} description", c.arch));
  check_activation(subject, cfg, *fam);
  // Partial rotary embeddings and soft-caps outside the families that describe them.
  const json* rp = hf::rope_object(subject, cfg, "full_attention");
  for (const json* holder : {static_cast<const json*>(&cfg), rp})
    if (holder && cfg_float(subject, *holder, "partial_rotary_factor", 1.0) != 1.0)
      throw Error(subject, fmt::format("'partial_rotary_factor' {} is not supported (tenx's {} rotates the whole head)",
                                       (*holder)["partial_rotary_factor"].dump(), c.arch));
  for (const char* key : {"attn_logit_softcapping", "final_logit_softcapping"})
    if (!fam->softcaps && !fam->logit_scale && !fam->embd_scale && cfg_float(subject, cfg, key, 0.0) != 0.0)
      throw Error(subject, fmt::format("'{}' is not part of tenx's {} description", key, c.arch));
  if (fam->llama4) hf::read_llama4(subject, cfg, c);  // before the llama3 factors: they need the head size only
  read_rope_scaling(subject, cfg, *fam, c);
  if (fam->embd_scale) hf::read_gemma(subject, cfg, c);
  if (fam->muse_swa) hf::read_muse_glimmer(subject, cfg, c);
  if (!fam->sliding_window && !fam->llama4 && hf::has(cfg, "layer_types")) {
    const auto types = hf::layer_types(subject, cfg, c.n_layer);
    for (const std::string& t : *types)
      if (t != "full_attention")
        throw Error(subject, fmt::format("'layer_types' entry '{}' is not part of tenx's {} description", t, c.arch));
  }
  describe_layers(c);
  return c;
}

}  // namespace tenx
