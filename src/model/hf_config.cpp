// config.json -> ModelConfig (docs/architectures.md lists the keys per family).
#include "tenx/model/hf_config.hpp"

#include <fmt/format.h>

#include <optional>

#include "tenx/model/arch.hpp"
#include "tenx/util/error.hpp"

namespace tenx {
namespace {

using nlohmann::json;

int64_t cfg_uint(const std::string& subject, const json& cfg, const char* key, std::optional<int64_t> fallback = {}) {
  if (!cfg.contains(key) || cfg[key].is_null()) {
    if (fallback) return *fallback;
    throw Error(subject, fmt::format("missing '{}'", key));
  }
  if (!cfg[key].is_number_unsigned() || cfg[key].get<uint64_t>() == 0 || cfg[key].get<uint64_t>() > UINT32_MAX)
    throw Error(subject, fmt::format("'{}' must be a positive 32-bit integer, got {}", key, cfg[key].dump()));
  return static_cast<int64_t>(cfg[key].get<uint64_t>());
}

double cfg_float(const std::string& subject, const json& cfg, const char* key, double fallback) {
  if (!cfg.contains(key) || cfg[key].is_null()) return fallback;
  if (!cfg[key].is_number()) throw Error(subject, fmt::format("'{}' must be a number, got {}", key, cfg[key].dump()));
  return cfg[key].get<double>();
}

std::string cfg_string(const json& cfg, const char* key) {
  return cfg.contains(key) && cfg[key].is_string() ? cfg[key].get<std::string>() : "";
}

// rope_scaling (or transformers 5's rope_parameters) -> per-pair factors or a linear scale.
void read_rope_scaling(const std::string& subject, const json& cfg, const Family& fam, ModelConfig& c) {
  const json* rs = nullptr;
  if (cfg.contains("rope_scaling") && cfg["rope_scaling"].is_object()) rs = &cfg["rope_scaling"];
  else if (cfg.contains("rope_parameters") && cfg["rope_parameters"].is_object()) rs = &cfg["rope_parameters"];
  else if (cfg.contains("rope_scaling") && !cfg["rope_scaling"].is_null())
    throw Error(subject, fmt::format("'rope_scaling' must be an object or null, got {}", cfg["rope_scaling"].dump()));
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
    if (!(low > 0) || !(high > low) || !(orig > 0))
      throw Error(subject, "rope_scaling llama3 needs 0 < low_freq_factor < high_freq_factor and a positive "
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
  c.n_expert = cfg_uint(subject, cfg, "num_experts");
  c.n_expert_used = cfg_uint(subject, cfg, "num_experts_per_tok");
  c.n_ff_exp = cfg_uint(subject, cfg, "moe_intermediate_size");
  if (c.n_expert_used > c.n_expert || c.n_expert > 4096)
    throw Error(subject, fmt::format("num_experts_per_tok {} must be at most num_experts {} (at most 4096)",
                                     c.n_expert_used, c.n_expert));
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

}  // namespace

ModelConfig config_from_hf(const json& cfg, const std::string& subject) {
  // json::value() throws a type_error for a present key of another type (TENX_FUZZ_STRICT=1 on
  // tests/fuzz/hf_fuzz.cpp): mistyped fields get this file's own messages instead.
  const std::string model_type = cfg_string(cfg, "model_type");
  std::string hf_arch;
  if (cfg.contains("architectures") && cfg["architectures"].is_array() && !cfg["architectures"].empty() &&
      cfg["architectures"][0].is_string())
    hf_arch = cfg["architectures"][0].get<std::string>();
  const Family* fam = find_hf_family(model_type, hf_arch);
  if (!fam)
    throw Error(subject, fmt::format("unsupported architecture (model_type '{}', architectures[0] '{}'); tenx reads {}",
                                     model_type, hf_arch, family_names()));
  ModelConfig c;
  c.arch = fam->name;
  c.n_embd = cfg_uint(subject, cfg, "hidden_size");
  c.n_layer = cfg_uint(subject, cfg, "num_hidden_layers");
  c.n_head = cfg_uint(subject, cfg, "num_attention_heads");
  c.n_head_kv = cfg_uint(subject, cfg, "num_key_value_heads", c.n_head);
  c.n_ff = cfg_uint(subject, cfg, "intermediate_size");
  if (fam->moe) read_experts(subject, cfg, c);
  c.n_ctx_train = cfg_uint(subject, cfg, "max_position_embeddings", 2048);
  c.n_vocab = cfg_uint(subject, cfg, "vocab_size");
  c.head_dim = cfg_uint(subject, cfg, "head_dim", c.n_embd / c.n_head);
  if (c.head_dim <= 0) throw Error(subject, "head_dim must be positive");
  c.n_rot = c.head_dim;
  c.rms_eps = static_cast<float>(cfg_float(subject, cfg, "rms_norm_eps", 1e-6));
  double base = cfg_float(subject, cfg, "rope_theta", 10000.0);
  if (cfg.contains("rope_parameters") && cfg["rope_parameters"].is_object())
    base = cfg_float(subject, cfg["rope_parameters"], "rope_theta", base);
  c.rope_base = static_cast<float>(base);
  if (cfg.contains("tie_word_embeddings") && !cfg["tie_word_embeddings"].is_boolean() &&
      !cfg["tie_word_embeddings"].is_null())
    throw Error(subject, fmt::format("'tie_word_embeddings' must be true or false, got {}",
                                     cfg["tie_word_embeddings"].dump()));
  c.tied_output = cfg.contains("tie_word_embeddings") && cfg["tie_word_embeddings"].is_boolean() &&
                  cfg["tie_word_embeddings"].get<bool>();
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
  read_rope_scaling(subject, cfg, *fam, c);
  describe_layers(c);
  return c;
}

}  // namespace tenx
