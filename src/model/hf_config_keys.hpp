#pragma once
// Typed reads of config.json keys with this reader's own messages (json::value() would throw a
// type_error for a present key of another type): shared by hf_config.cpp and the per-family
// readers in hf_config_families.cpp.
#include <fmt/format.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "tenx/model/config.hpp"
#include "tenx/util/error.hpp"

namespace tenx::hf {

using nlohmann::json;

inline bool has(const json& cfg, const char* key) { return cfg.contains(key) && !cfg[key].is_null(); }

inline int64_t cfg_uint(const std::string& subject, const json& cfg, const char* key,
                        std::optional<int64_t> fallback = {}) {
  if (!has(cfg, key)) {
    if (fallback) return *fallback;
    throw Error(subject, fmt::format("missing '{}'", key));
  }
  if (!cfg[key].is_number_unsigned() || cfg[key].get<uint64_t>() == 0 || cfg[key].get<uint64_t>() > UINT32_MAX)
    throw Error(subject, fmt::format("'{}' must be a positive 32-bit integer, got {}", key, cfg[key].dump()));
  return static_cast<int64_t>(cfg[key].get<uint64_t>());
}

inline double cfg_float(const std::string& subject, const json& cfg, const char* key, double fallback) {
  if (!has(cfg, key)) return fallback;
  if (!cfg[key].is_number()) throw Error(subject, fmt::format("'{}' must be a number, got {}", key, cfg[key].dump()));
  return cfg[key].get<double>();
}

inline std::string cfg_string(const json& cfg, const char* key) {
  return cfg.contains(key) && cfg[key].is_string() ? cfg[key].get<std::string>() : "";
}

// The expert counts of a mixture of experts: `count_key` experts per layer (num_experts,
// num_local_experts), num_experts_per_tok of them per token.
inline void read_expert_counts(const std::string& subject, const json& cfg, const char* count_key, ModelConfig& c) {
  c.n_expert = cfg_uint(subject, cfg, count_key);
  c.n_expert_used = cfg_uint(subject, cfg, "num_experts_per_tok");
  if (c.n_expert_used > c.n_expert || c.n_expert > 4096)
    throw Error(subject, fmt::format("num_experts_per_tok {} must be at most {} {} (at most 4096)", c.n_expert_used,
                                     count_key, c.n_expert));
}

// layer_types (transformers >= 4.53: "sliding_attention", "full_attention", "chunked_attention"
// per layer), or nullopt when absent. Checked against block_count.
std::optional<std::vector<std::string>> layer_types(const std::string& subject, const json& cfg, int64_t n_layer);

// rope_parameters {full_attention: {...}, sliding_attention: {...}} (transformers 5, per layer
// type), else the flat rope_parameters / rope_scaling object, else nullptr.
const json* rope_object(const std::string& subject, const json& cfg, const char* layer_type);

// The family-specific keys of config.json (hf_config_families.cpp). Each reads what its family's
// description holds and refuses values that would compute something else.
void read_gemma(const std::string& subject, const json& cfg, ModelConfig& c);
void read_llama4(const std::string& subject, const json& cfg, ModelConfig& c);
void read_muse_glimmer(const std::string& subject, const json& cfg, ModelConfig& c);

}  // namespace tenx::hf
