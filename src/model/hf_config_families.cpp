// config.json keys of the families whose layers differ from llama's (Gemma 2/3, Llama 4, Muse
// Glimmer), read into the same ModelConfig the GGUF reader fills. Names and defaults are those
// llama.cpp's converter (convert_hf_to_gguf.py, conversion/*.py) reads; a value the description
// cannot hold, or that llama.cpp would silently compute otherwise, is an error naming the key.
#include <cmath>
#include <functional>

#include "hf_config_keys.hpp"
#include "tenx/model/arch.hpp"

namespace tenx::hf {
namespace {

// The local (sliding-window) layers' rope base under any of the names the converter looks for,
// or transformers 5's rope_parameters.sliding_attention; fallback otherwise. Scaling on the local
// layers is not part of any description (llama.cpp's converter ignores it: refused here).
float local_rope_base(const std::string& subject, const json& cfg, float fallback) {
  double base = fallback;
  for (const char* key : {"local_rope_theta", "rope_local_theta", "rope_theta_local", "swa_rope_theta",
                          "rope_local_base_freq"})
    base = cfg_float(subject, cfg, key, base);
  if (const json* rp = rope_object(subject, cfg, "sliding_attention")) {
    base = cfg_float(subject, *rp, "rope_theta", base);
    const std::string type = cfg_string(*rp, "rope_type");
    if (!type.empty() && type != "default")
      throw Error(subject, fmt::format("rope scaling '{}' on the sliding-window layers is not supported", type));
  }
  if (!(base > 0)) throw Error(subject, "the sliding-window layers' rope_theta must be positive");
  return static_cast<float>(base);
}

// layer_types, when present, must say what the description computes layer by layer.
void check_layer_types(const std::string& subject, const json& cfg, const ModelConfig& c,
                       const std::function<std::string(int64_t)>& expected) {
  const auto types = layer_types(subject, cfg, c.n_layer);
  if (!types) return;
  for (int64_t l = 0; l < c.n_layer; ++l)
    if ((*types)[static_cast<size_t>(l)] != expected(l))
      throw Error(subject, fmt::format("'layer_types'[{}] is '{}', but tenx's {} description (as llama.cpp's) makes "
                                       "that layer '{}'", l, (*types)[static_cast<size_t>(l)], c.arch, expected(l)));
}

bool truthy(const json& v) { return v.is_boolean() ? v.get<bool>() : v.is_number() && v.get<double>() != 0.0; }

}  // namespace

// gemma2 / gemma3 (conversion/gemma.py): the local/global pattern, the local rope base, the
// soft-caps and query_pre_attn_scalar, which llama.cpp derives from the layer count instead.
void read_gemma(const std::string& subject, const json& cfg, ModelConfig& c) {
  const Family& fam = family_of(c.arch, subject);
  const bool gemma2 = fam.softcaps;
  const auto types = layer_types(subject, cfg, c.n_layer);
  int64_t period = fam.swa_period;
  if (!gemma2 && has(cfg, "sliding_window_pattern")) {
    period = cfg_uint(subject, cfg, "sliding_window_pattern");
  } else if (!gemma2 && types) {  // the pattern as transformers >= 4.53 writes it
    period = 0;                   // every layer local unless one is full
    for (int64_t l = 0; l < c.n_layer && period == 0; ++l)
      if ((*types)[static_cast<size_t>(l)] == "full_attention") period = l + 1;
  } else if (gemma2 && has(cfg, "sliding_window_pattern") && cfg_uint(subject, cfg, "sliding_window_pattern") != 2) {
    throw Error(subject, "gemma2: 'sliding_window_pattern' other than 2 is not part of the family (llama.cpp alternates)");
  }
  c.swa_period = period;
  // gemma3 with a pattern of 1 has no local layer (the converter writes no window then).
  c.sliding_window = !gemma2 && period == 1 ? 0 : cfg_uint(subject, cfg, "sliding_window");
  c.rope_base_swa = gemma2 ? c.rope_base : local_rope_base(subject, cfg, 10000.0f);
  check_layer_types(subject, cfg, c, [&](int64_t l) {
    const bool local = c.sliding_window > 0 && (period == 0 || l % period < period - 1);
    return std::string(local ? "sliding_attention" : "full_attention");
  });
  if (gemma2) {
    c.attn_softcap = static_cast<float>(cfg_float(subject, cfg, "attn_logit_softcapping", 0.0));
    c.final_softcap = static_cast<float>(cfg_float(subject, cfg, "final_logit_softcapping", 0.0));
    if (!(c.attn_softcap > 0) || !(c.final_softcap > 0) || !std::isfinite(c.attn_softcap) || !std::isfinite(c.final_softcap))
      throw Error(subject, "gemma2 needs positive 'attn_logit_softcapping' and 'final_logit_softcapping' (llama.cpp's "
                           "converter requires both)");
  } else {
    if (has(cfg, "attn_logit_softcapping"))
      throw Error(subject, "gemma3: 'attn_logit_softcapping' is not part of the family (llama.cpp's converter refuses it)");
    if (cfg_float(subject, cfg, "final_logit_softcapping", 0.0) != 0.0)
      throw Error(subject, "gemma3: 'final_logit_softcapping' is not supported (llama.cpp's gemma3 does not apply it)");
  }
  // llama.cpp scales the scores by 1/sqrt(n_embd / n_head) for the 27B's layer count and by
  // 1/sqrt(head size) otherwise; a query_pre_attn_scalar saying anything else is refused.
  const bool wide = fam.wide_scale_layers > 0 && c.n_layer == fam.wide_scale_layers;
  const int64_t expected = wide ? c.n_embd / c.n_head : c.head_dim;
  if (const int64_t q = cfg_uint(subject, cfg, "query_pre_attn_scalar", expected); q != expected)
    throw Error(subject, fmt::format("{}: 'query_pre_attn_scalar' {} differs from the {} llama.cpp uses for {} layers "
                                     "(head size, or n_embd / n_head at {} layers)", c.arch, q, expected, c.n_layer,
                                     fam.wide_scale_layers));
  if (wide) c.attn_scale = 1.0f / std::sqrt(static_cast<float>(c.n_embd / c.n_head));
}

// llama4 (conversion/llama.py, Llama4Model; transformers' Llama4TextConfig): intermediate_size is
// the experts' width and intermediate_size_mlp the dense layers'. The chunk, the NoPE period,
// the q/k norm and the attention temperature are constants in llama.cpp: the keys that set them
// must agree.
void read_llama4(const std::string& subject, const json& cfg, ModelConfig& c) {
  c.n_ff_exp = c.n_ff;
  c.n_ff = cfg_uint(subject, cfg, "intermediate_size_mlp");
  read_expert_counts(subject, cfg, "num_local_experts", c);
  c.moe_layer_step = cfg_uint(subject, cfg, "interleave_moe_layer_step");
  if (c.moe_layer_step > c.n_layer)
    throw Error(subject, fmt::format("'interleave_moe_layer_step' {} exceeds num_hidden_layers {}", c.moe_layer_step,
                                     c.n_layer));
  if (has(cfg, "moe_layers")) {
    json expected = json::array();
    for (int64_t l = c.moe_layer_step - 1; l < c.n_layer; l += c.moe_layer_step) expected.push_back(l);
    if (cfg["moe_layers"] != expected)
      throw Error(subject, fmt::format("'moe_layers' {} differs from every interleave_moe_layer_step-th layer {}",
                                       cfg["moe_layers"].dump(), expected.dump()));
  }
  constexpr int64_t kNopePeriod = 4, kChunk = 8192;  // llama.cpp's constants (llama4.cpp)
  if (cfg_uint(subject, cfg, "no_rope_layer_interval", kNopePeriod) != kNopePeriod)
    throw Error(subject, "'no_rope_layer_interval' other than 4 is not supported (llama.cpp makes every 4th layer NoPE)");
  if (has(cfg, "no_rope_layers") && !(cfg["no_rope_layers"].is_array() && cfg["no_rope_layers"].empty())) {
    json expected = json::array();  // 1: the layer rotates, 0: NoPE
    for (int64_t l = 0; l < c.n_layer; ++l) expected.push_back((l + 1) % kNopePeriod != 0 ? 1 : 0);
    if (cfg["no_rope_layers"] != expected)
      throw Error(subject, fmt::format("'no_rope_layers' {} differs from llama.cpp's every-4th-layer NoPE {}",
                                       cfg["no_rope_layers"].dump(), expected.dump()));
  }
  if (cfg.contains("attention_chunk_size") && cfg["attention_chunk_size"].is_null())
    throw Error(subject, "'attention_chunk_size': null (no chunking) is not supported (llama.cpp chunks by 8192)");
  if (const int64_t chunk = cfg_uint(subject, cfg, "attention_chunk_size", kChunk); chunk != kChunk)
    throw Error(subject, fmt::format("'attention_chunk_size' {} is not supported (llama.cpp runs llama4 with chunks of "
                                     "{})", chunk, kChunk));
  c.swa_period = kNopePeriod;
  c.rope_base_swa = c.rope_base;
  check_layer_types(subject, cfg, c, [](int64_t l) {
    return std::string(l % kNopePeriod < kNopePeriod - 1 ? "chunked_attention" : "full_attention");
  });
  const bool qk_norm = !has(cfg, "use_qk_norm") || truthy(cfg["use_qk_norm"]);
  if (qk_norm != (c.n_expert != 128))
    throw Error(subject, fmt::format("'use_qk_norm': {} with {} experts: llama.cpp decides the q/k norm from the "
                                     "expert count (on unless 128), so this file would compute otherwise there",
                                     qk_norm, c.n_expert));
  if (has(cfg, "attn_temperature_tuning") && !truthy(cfg["attn_temperature_tuning"]))
    throw Error(subject, "'attn_temperature_tuning': off is not supported (llama.cpp always tunes the NoPE layers)");
  if (cfg_uint(subject, cfg, "floor_scale", 8192) != 8192 || std::fabs(cfg_float(subject, cfg, "attn_scale", 0.1) - 0.1) > 1e-12)
    throw Error(subject, "'floor_scale' / 'attn_scale' other than 8192 / 0.1 are not supported (llama.cpp's constants)");
}

// muse-glimmer (conversion/muse_glimmer.py): sliding_window with layer_types (a flag per layer),
// output_multiplier (logit_scale), final_logit_softcapping, qk_scale_factor (the loader puts it
// into the synthesized q norm weights).
void read_muse_glimmer(const std::string& subject, const json& cfg, ModelConfig& c) {
  c.sliding_window = cfg_uint(subject, cfg, "sliding_window");
  const auto types = layer_types(subject, cfg, c.n_layer);
  if (!types) throw Error(subject, "missing 'layer_types' (muse-glimmer's sliding/full layers)");
  c.swa_layers.clear();
  for (const std::string& t : *types) {
    if (t != "sliding_attention" && t != "full_attention")
      throw Error(subject, fmt::format("'layer_types' entry '{}' is not part of muse-glimmer", t));
    c.swa_layers.push_back(t == "sliding_attention" ? 1 : 0);
  }
  c.rope_base_swa = local_rope_base(subject, cfg, c.rope_base);
  if (!has(cfg, "output_multiplier")) throw Error(subject, "missing 'output_multiplier' (muse-glimmer's logit scale)");
  c.logit_scale = static_cast<float>(cfg_float(subject, cfg, "output_multiplier", 1.0));
  c.final_softcap = static_cast<float>(cfg_float(subject, cfg, "final_logit_softcapping", 0.0));
  if (!std::isfinite(c.logit_scale) || !std::isfinite(c.final_softcap) || c.final_softcap < 0)
    throw Error(subject, "'output_multiplier' must be finite and 'final_logit_softcapping' finite and non-negative");
  if (!has(cfg, "qk_scale_factor") || !cfg["qk_scale_factor"].is_number() ||
      !std::isfinite(cfg["qk_scale_factor"].get<double>()))
    throw Error(subject, "missing or non-numeric 'qk_scale_factor' (muse-glimmer's q norm weight)");
  // Only the local layers rotate, and llama.cpp gives them no linear scaling of the model's.
  if (c.rope_freq_scale != 1.0f || !c.rope_freq_factors.empty())
    throw Error(subject, "muse-glimmer: rope scaling is not part of the family's description");
}

}  // namespace tenx::hf
