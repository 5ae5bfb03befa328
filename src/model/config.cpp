// GGUF metadata -> ModelConfig (docs/gguf-format.md §3), and back (set_hparams). Every
// {arch}.* key is either read into the description, known not to change the computation, or
// an error: a file whose computation tenx would silently get wrong must not load.
#include "tenx/model/config.hpp"

#include <fmt/format.h>

#include <cmath>
#include <set>

#include "tenx/model/arch.hpp"
#include "tenx/util/error.hpp"

namespace tenx {
namespace {

// Reads {arch}.* keys and remembers which it read.
class KeyReader {
 public:
  KeyReader(const Metadata& meta, std::string arch, std::string subject)
      : meta_(meta), prefix_(std::move(arch) + "."), subject_(std::move(subject)) {}

  bool has(const std::string& key) { return used(key), meta_.contains(prefix_ + key); }
  const GgufValue* find(const std::string& key) { return meta_.find(prefix_ + used(key)); }

  int64_t uint(const std::string& key) {
    auto v = meta_.get_uint(prefix_ + used(key), subject_);
    if (!v) throw Error(subject_, fmt::format("missing metadata key '{}{}'", prefix_, key));
    if (*v > (1ull << 31)) throw Error(subject_, fmt::format("metadata key '{}{}' = {} is out of range", prefix_, key, *v));
    return static_cast<int64_t>(*v);
  }
  int64_t uint_or(const std::string& key, int64_t fallback) { return has(key) ? uint(key) : fallback; }
  std::optional<double> real(const std::string& key) { return meta_.get_float(prefix_ + used(key), subject_); }
  std::optional<std::string> str(const std::string& key) { return meta_.get_string(prefix_ + used(key), subject_); }

  // A per-layer hyper-parameter may be an INT32 array of length block_count (docs/gguf-format.md §3); the
  // decoder's KV cache and buffers assume uniform sizes, so all entries must agree.
  int64_t uniform(const std::string& key, int64_t n_layer) {
    const GgufValue* v = meta_.find(prefix_ + used(key));
    if (!v) throw Error(subject_, fmt::format("missing metadata key '{}{}'", prefix_, key));
    if (v->type != GgufType::ARRAY) return uint(key);
    const std::string k = prefix_ + key;
    if (!(v->array_type == GgufType::INT32 || v->array_type == GgufType::UINT32) || v->ints.empty())
      throw Error(subject_, fmt::format("metadata key '{}' must be an integer or an INT32 array", k));
    if (static_cast<int64_t>(v->ints.size()) != n_layer)
      throw Error(subject_, fmt::format("metadata key '{}' has {} entries, expected block_count = {}", k,
                                        v->ints.size(), n_layer));
    for (int64_t x : v->ints)
      if (x != v->ints[0])
        throw Error(subject_, fmt::format("metadata key '{}': layers of different sizes are not supported", k));
    return v->ints[0];
  }

  // The {arch}.* keys nobody read. Those that cannot change the computation pass.
  void check_leftovers(const std::string& arch) const {
    static const std::set<std::string> kInformational = {
        "vocab_size",                         // checked against token_embd by llama.cpp; tenx reads the tensor
        "rope.scaling.original_context_length",  // only YaRN reads it
        "rope.scaling.finetuned",
    };
    for (const auto& [key, value] : meta_.entries()) {
      if (!key.starts_with(prefix_)) continue;
      const std::string k = key.substr(prefix_.size());
      if (used_.contains(k) || kInformational.contains(k)) continue;
      // MoE counts of 0 describe a dense model (llama.cpp's converters write them for llama).
      if ((k == "expert_count" || k == "expert_used_count") && value.type != GgufType::ARRAY &&
          meta_.get_uint(key, subject_).value_or(1) == 0)
        continue;
      throw Error(subject_, fmt::format("architecture '{}': metadata key '{}' is not part of tenx's description of "
                                        "{} and may change the computation (docs/architectures.md)",
                                        arch, key, arch));
    }
  }

 private:
  const std::string& used(const std::string& key) { return *used_.insert(key).first; }
  const Metadata& meta_;
  std::string prefix_, subject_;
  std::set<std::string> used_;
};

// rope.scaling.*: "linear" (llama.cpp's default type when only a factor is given) scales every
// angle by 1/factor; "none" ignores the factor; YaRN, LongRoPE and attention factors are not
// part of any description yet, so they are refused.
void read_rope_scaling(KeyReader& k, ModelConfig& c, const std::string& subject) {
  const std::string type = k.str("rope.scaling.type").value_or("linear");
  std::optional<double> factor = k.real("rope.scaling.factor");
  if (!factor) factor = k.real("rope.scale_linear");
  if (type != "none" && type != "linear")
    throw Error(subject, fmt::format("rope scaling type '{}' is not supported (tenx runs none, linear and "
                                     "rope_freqs factors)", type));
  if (const auto a = k.real("rope.scaling.attn_factor"); a && *a != 1.0)
    throw Error(subject, fmt::format("rope.scaling.attn_factor {} is not supported", *a));
  if (type == "linear" && factor && *factor != 0.0) {
    if (!(*factor > 0) || !std::isfinite(*factor))
      throw Error(subject, fmt::format("rope.scaling.factor {} must be positive", *factor));
    c.rope_freq_scale = static_cast<float>(1.0 / *factor);
  }
}

// Gemma 3: no attention.sliding_window (or 0) means every layer is global, as in llama.cpp.
// muse-glimmer: the window is required; the pattern is a period or a bool per layer (its
// converter writes the bools), and without it no layer is local (llama.cpp's is_swa default).
void read_sliding_window(KeyReader& k, ModelConfig& c, const Family& fam, const std::string& subject) {
  // The pattern and local base are read (and checked) either way: without a window they change nothing.
  c.sliding_window =
      fam.muse_swa ? k.uint("attention.sliding_window") : k.uint_or("attention.sliding_window", fam.default_window);
  if (fam.muse_swa && c.sliding_window <= 0) throw Error(subject, "attention.sliding_window must be positive");
  c.swa_period = fam.swa_period;
  if (const GgufValue* v = k.find("attention.sliding_window_pattern"); v && v->type == GgufType::ARRAY && fam.muse_swa) {
    if (!(v->array_type == GgufType::BOOL || v->array_type == GgufType::INT32 || v->array_type == GgufType::UINT32) ||
        static_cast<int64_t>(v->ints.size()) != c.n_layer)
      throw Error(subject, fmt::format("attention.sliding_window_pattern: expected {} bools (one per layer)", c.n_layer));
    for (int64_t x : v->ints) c.swa_layers.push_back(x != 0 ? 1 : 0);
  } else {
    c.swa_period = k.uint_or("attention.sliding_window_pattern", fam.swa_period);
  }
  c.rope_base_swa = fam.rope_base_swa > 0 ? fam.rope_base_swa : c.rope_base;
  if (auto v = k.real("rope.freq_base_swa")) c.rope_base_swa = static_cast<float>(*v);
  if (!(c.rope_base_swa > 0)) throw Error(subject, "rope.freq_base_swa must be positive");
}

// gemma2: both soft-caps, llama.cpp's defaults when absent; 0 would divide by zero there.
void read_softcaps(KeyReader& k, ModelConfig& c, const std::string& subject) {
  c.attn_softcap = static_cast<float>(k.real("attn_logit_softcapping").value_or(50.0));
  c.final_softcap = static_cast<float>(k.real("final_logit_softcapping").value_or(30.0));
  if (!(c.attn_softcap > 0) || !(c.final_softcap > 0) || !std::isfinite(c.attn_softcap) || !std::isfinite(c.final_softcap))
    throw Error(subject, fmt::format("{}: attn_logit_softcapping and final_logit_softcapping must be positive", c.arch));
}

// muse-glimmer: logit_scale (required, as in llama.cpp) and an optional final soft-cap.
void read_logit_scaling(KeyReader& k, ModelConfig& c, const std::string& subject) {
  const auto scale = k.real("logit_scale");
  if (!scale) throw Error(subject, fmt::format("missing metadata key '{}.logit_scale'", c.arch));
  c.logit_scale = static_cast<float>(*scale);
  c.final_softcap = static_cast<float>(k.real("final_logit_softcapping").value_or(0.0));
  if (!std::isfinite(c.logit_scale) || !std::isfinite(c.final_softcap) || c.final_softcap < 0)
    throw Error(subject, "logit_scale must be finite and final_logit_softcapping finite and non-negative");
}

// Mixture of experts: counts and the expert width, validated (llama.cpp falls back to
// feed_forward_length / expert_used_count for the width).
void read_experts(KeyReader& k, ModelConfig& c, const std::string& subject) {
  c.n_expert = k.uint("expert_count");
  c.n_expert_used = k.uniform("expert_used_count", c.n_layer);
  if (c.n_expert <= 0 || c.n_expert_used <= 0 || c.n_expert_used > c.n_expert || c.n_expert > 4096)
    throw Error(subject, fmt::format("{}: expert_used_count {} must be in [1, expert_count {}] (at most 4096 experts)",
                                     c.arch, c.n_expert_used, c.n_expert));
  c.n_ff_exp = k.has("expert_feed_forward_length") ? k.uniform("expert_feed_forward_length", c.n_layer)
                                                   : c.n_ff / c.n_expert_used;
  if (c.n_ff_exp <= 0) throw Error(subject, fmt::format("{}: expert_feed_forward_length must be positive", c.arch));
}

// llama4 (llama.cpp's llama_model_llama4::load_arch_hparams): interleave_moe_layer_step and
// expert_feed_forward_length are required; with no attention.sliding_window key the model is
// chunked (8192 positions) on the local layers of the period attention.sliding_window_pattern
// (default 4), every 4th layer NoPE with temperature tuning (floor 8192, scale 0.1, offset 1),
// all constants llama.cpp sets rather than reads. A window of 0 makes llama.cpp abort (it
// builds the temperature input without its constants) and any other value is ignored by it
// (replaced by 8192): both are refused rather than guessed.
void read_llama4(KeyReader& k, ModelConfig& c, const std::string& subject) {
  c.moe_layer_step = k.uint("interleave_moe_layer_step");
  if (c.moe_layer_step <= 0 || c.moe_layer_step > c.n_layer)
    throw Error(subject, fmt::format("llama4: interleave_moe_layer_step {} must be in [1, block_count {}]",
                                     c.moe_layer_step, c.n_layer));
  if (!k.has("expert_feed_forward_length")) throw Error(subject, "missing metadata key 'llama4.expert_feed_forward_length'");
  if (const auto w = k.uint_or("attention.sliding_window", 8192); w != 8192)
    throw Error(subject, fmt::format("llama4: attention.sliding_window {} is not supported (llama.cpp runs llama4 only "
                                     "with its chunk of 8192: it aborts on 0 and ignores other values)", w));
  c.swa_period = k.uint_or("attention.sliding_window_pattern", 4);
  c.rope_base_swa = c.rope_base;
  if (auto v = k.real("rope.freq_base_swa")) c.rope_base_swa = static_cast<float>(*v);
  if (!(c.rope_base_swa > 0)) throw Error(subject, "rope.freq_base_swa must be positive");
  for (int64_t l = 0; l < c.n_layer; ++l)
    if ((l + 1) % c.moe_layer_step != 0 && c.n_ff <= 0)
      throw Error(subject, fmt::format("llama4: layer {} is dense (interleave_moe_layer_step {}) and needs a positive "
                                       "feed_forward_length", l, c.moe_layer_step));
}

// llama4's layers: which are experts, chunked, NoPE (llama.cpp's llama4.cpp).
void describe_llama4_layer(const ModelConfig& c, int64_t l, LayerConfig& lc) {
  const int64_t p = c.swa_period;
  lc.moe = (l + 1) % c.moe_layer_step == 0;
  lc.shared_expert = lc.moe_sigmoid_input = lc.moe;
  lc.rope = (l + 1) % c.nope_layer_step != 0;
  lc.attn_temperature = !lc.rope;
  lc.qk_l2_norm = lc.rope && c.n_expert != 128;  // llama.cpp: use_kq_norm = type != 17B_128E
  if (p == 0 || l % p < p - 1) {                 // llama.cpp's set_swa_pattern(period)
    lc.attn_chunk = c.attn_chunk;
    lc.rope_base = c.rope_base_swa;  // the model's rope scaling stays (rope_freq_scale_train_swa)
  }
}

}  // namespace

void describe_layers(ModelConfig& c) {
  const Family* f = find_family(c.arch);
  LayerConfig layer = f ? f->layer : LayerConfig{};
  layer.rope_base = c.rope_base;
  layer.rope_freq_scale = c.rope_freq_scale;
  c.qkv_bias = layer.qkv_bias;
  c.embd_scale = f && f->embd_scale;
  c.embd_norm = f && f->embd_norm;
  c.layers.assign(static_cast<size_t>(std::max<int64_t>(c.n_layer, 0)), layer);
  const bool nope_global = f && f->muse_swa;  // muse-glimmer rotates on its local layers only
  if (f && f->llama4) {  // llama.cpp's constants for every llama4 file (no keys)
    c.attn_chunk = 8192, c.nope_layer_step = 4;
    c.attn_temp_floor = 8192, c.attn_temp_scale = 0.1f, c.attn_temp_offset = 1.0f;
    if (c.moe_layer_step <= 0) c.moe_layer_step = 1;
  }
  for (int64_t l = 0; l < c.n_layer; ++l) {
    LayerConfig& lc = c.layers[static_cast<size_t>(l)];
    // llama.cpp's set_swa_pattern(period): every period-th layer is global, the others local.
    // A period below 0 (muse-glimmer without a pattern key): no local layer.
    const int64_t p = c.swa_period;
    const bool local = c.sliding_window > 0 && (c.swa_layers.empty() ? p == 0 || (p > 0 && l % p < p - 1)
                                                                     : c.swa_layers[static_cast<size_t>(l)] != 0);
    if (nope_global) lc.rope = local;
    if (f && f->llama4) describe_llama4_layer(c, l, lc);
    if (!local) continue;
    lc.sliding_window = c.sliding_window;
    lc.rope_base = c.rope_base_swa;
    lc.rope_freq_scale = f && f->swa_keeps_rope_scale ? c.rope_freq_scale : 1.0f;
  }
}

ModelConfig config_from_metadata(const Metadata& meta, const std::string& subject, int64_t max_layers) {
  ModelConfig c;
  auto arch = meta.get_string("general.architecture", subject);
  if (!arch) throw Error(subject, "missing metadata key 'general.architecture'");
  const Family& fam = family_of(*arch, subject);
  c.arch = fam.name;
  KeyReader k(meta, c.arch, subject);

  c.n_embd = k.uint("embedding_length");
  c.n_layer = k.uint("block_count");
  if (c.n_embd <= 0) throw Error(subject, "embedding_length must be positive");
  if (c.n_layer <= 0) throw Error(subject, "block_count must be positive");
  // A mixture of experts' dense width is informational (llama.cpp derives the expert width from
  // it only when expert_feed_forward_length is absent).
  c.n_ff = fam.moe && !k.has("feed_forward_length") ? 0 : k.uniform("feed_forward_length", c.n_layer);
  if (fam.moe) read_experts(k, c, subject);
  c.n_head = k.uniform("attention.head_count", c.n_layer);
  c.n_head_kv = k.has("attention.head_count_kv") ? k.uniform("attention.head_count_kv", c.n_layer) : c.n_head;
  c.n_ctx_train = k.uint_or("context_length", 2048);
  if ((c.n_ff <= 0 && !fam.moe) || c.n_head <= 0 || c.n_head_kv <= 0)
    throw Error(subject, "feed_forward_length, head_count and head_count_kv must be positive");
  if (c.n_head % c.n_head_kv != 0)
    throw Error(subject, fmt::format("head_count {} is not a multiple of head_count_kv {}", c.n_head, c.n_head_kv));
  if (k.has("attention.key_length")) {
    c.head_dim = k.uint("attention.key_length");
  } else {
    if (c.n_embd % c.n_head != 0)
      throw Error(subject, fmt::format("embedding_length {} is not a multiple of head_count {}", c.n_embd, c.n_head));
    c.head_dim = c.n_embd / c.n_head;
  }
  if (c.head_dim <= 0) throw Error(subject, "attention.key_length must be positive");
  if (const int64_t v = k.uint_or("attention.value_length", c.head_dim); v != c.head_dim)
    throw Error(subject, fmt::format("attention.value_length {} differs from key_length {}: not supported", v,
                                     c.head_dim));
  c.n_rot = k.uint_or("rope.dimension_count", c.head_dim);
  if (c.n_rot <= 0 || c.n_rot > c.head_dim || c.n_rot % 2 != 0)
    throw Error(subject, fmt::format("rope.dimension_count {} must be even and at most the head size {}",
                                     c.n_rot, c.head_dim));
  if (!fam.partial_rope && c.n_rot != c.head_dim)
    throw Error(subject, fmt::format("{}: rope.dimension_count {} must equal the head size {}", c.arch, c.n_rot,
                                     c.head_dim));
  if (auto v = k.real("rope.freq_base")) c.rope_base = static_cast<float>(*v);
  if (auto v = k.real("attention.layer_norm_rms_epsilon")) c.rms_eps = static_cast<float>(*v);
  if (!(c.rope_base > 0)) throw Error(subject, "rope.freq_base must be positive");
  if (!(c.rms_eps > 0)) throw Error(subject, "attention.layer_norm_rms_epsilon must be positive");
  read_rope_scaling(k, c, subject);
  if (fam.llama4) read_llama4(k, c, subject);  // after rope.freq_base: the chunked layers' default base
  if (fam.sliding_window) read_sliding_window(k, c, fam, subject);
  if (fam.logit_scale) read_logit_scaling(k, c, subject);
  if (fam.softcaps) read_softcaps(k, c, subject);
  if (fam.wide_scale_layers > 0 && c.n_layer == fam.wide_scale_layers)  // llama.cpp: the 27B's query_pre_attn_scalar
    c.attn_scale = 1.0f / std::sqrt(static_cast<float>(c.n_embd / c.n_head));
  if (const auto cap = k.real("final_logit_softcapping"); !fam.logit_scale && !fam.softcaps && cap && *cap != 0.0)
    throw Error(subject, fmt::format("{}: final_logit_softcapping {} is not supported", c.arch, *cap));
  k.check_leftovers(c.arch);
  if (c.n_layer <= max_layers) describe_layers(c);
  return c;
}

void set_hparams(Metadata& m, const ModelConfig& c) {
  const std::string& a = c.arch;
  auto u32 = [](int64_t v) { return GgufValue::u32(static_cast<uint32_t>(v)); };
  m.set("general.architecture", GgufValue::str(a));
  m.set(a + ".context_length", u32(c.n_ctx_train));
  m.set(a + ".embedding_length", u32(c.n_embd));
  m.set(a + ".block_count", u32(c.n_layer));
  m.set(a + ".feed_forward_length", u32(c.n_ff));
  m.set(a + ".attention.head_count", u32(c.n_head));
  m.set(a + ".attention.head_count_kv", u32(c.n_head_kv));
  m.set(a + ".attention.layer_norm_rms_epsilon", GgufValue::f32(c.rms_eps));
  m.set(a + ".rope.freq_base", GgufValue::f32(c.rope_base));
  m.set(a + ".rope.dimension_count", u32(c.n_rot));
  if (c.head_dim * c.n_head != c.n_embd) {  // llama.cpp assumes n_embd / n_head otherwise
    m.set(a + ".attention.key_length", u32(c.head_dim));
    m.set(a + ".attention.value_length", u32(c.head_dim));
  }
  if (c.rope_freq_scale != 1.0f) {
    m.set(a + ".rope.scaling.type", GgufValue::str("linear"));
    m.set(a + ".rope.scaling.factor", GgufValue::f32(1.0f / c.rope_freq_scale));
  }
  if (c.sliding_window > 0) {
    m.set(a + ".attention.sliding_window", u32(c.sliding_window));
    if (c.swa_layers.empty()) {
      if (c.swa_period >= 0) m.set(a + ".attention.sliding_window_pattern", u32(c.swa_period));
    } else {
      GgufValue v;  // one bool per layer, as muse-glimmer's converter writes the pattern
      v.type = GgufType::ARRAY, v.array_type = GgufType::BOOL;
      v.ints.assign(c.swa_layers.begin(), c.swa_layers.end());
      m.set(a + ".attention.sliding_window_pattern", v);
    }
    m.set(a + ".rope.freq_base_swa", GgufValue::f32(c.rope_base_swa));
  }
  const Family* f = find_family(a);
  if (f && f->moe) {
    m.set(a + ".expert_count", u32(c.n_expert));
    m.set(a + ".expert_used_count", u32(c.n_expert_used));
    m.set(a + ".expert_feed_forward_length", u32(c.n_ff_exp));
  }
  if (f && f->llama4) {  // no attention.sliding_window: chunked, as every Llama 4 file
    m.set(a + ".interleave_moe_layer_step", u32(c.moe_layer_step));
    m.set(a + ".attention.sliding_window_pattern", u32(c.swa_period));
    if (c.rope_base_swa != c.rope_base) m.set(a + ".rope.freq_base_swa", GgufValue::f32(c.rope_base_swa));
  }
  if (f && f->softcaps) {
    m.set(a + ".attn_logit_softcapping", GgufValue::f32(c.attn_softcap));
    m.set(a + ".final_logit_softcapping", GgufValue::f32(c.final_softcap));
  }
  if (f && f->logit_scale) {
    m.set(a + ".logit_scale", GgufValue::f32(c.logit_scale));
    if (c.final_softcap != 0.0f) m.set(a + ".final_logit_softcapping", GgufValue::f32(c.final_softcap));
  }
}

std::vector<float> llama3_rope_factors(int64_t n_rot, float base, double factor, double low_freq_factor,
                                       double high_freq_factor, double original_ctx) {
  const double kPi = 3.14159265358979323846;
  const double low_wavelen = original_ctx / low_freq_factor, high_wavelen = original_ctx / high_freq_factor;
  std::vector<float> out;
  for (int64_t i = 0; i < n_rot / 2; ++i) {
    const double freq = 1.0 / std::pow(static_cast<double>(base), static_cast<double>(2 * i) / static_cast<double>(n_rot));
    const double wavelen = 2 * kPi / freq;
    double f = 1.0;
    if (wavelen > low_wavelen) {
      f = factor;
    } else if (wavelen >= high_wavelen && high_freq_factor > low_freq_factor) {  // equal factors: no band
      const double smooth = (original_ctx / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor);
      f = 1.0 / ((1.0 - smooth) / factor + smooth);
    }
    out.push_back(static_cast<float>(f));
  }
  return out;
}

}  // namespace tenx
