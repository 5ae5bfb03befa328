// tenx inspect MODEL...: metadata, architecture, parameters, size, bits per weight,
// FLOPs per token and memory at a given context; from a config.json alone, or several models side
// by side (inspect_analytic.hpp).
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "command.hpp"
#include "common.hpp"
#include "inspect_analytic.hpp"
#include "inspect_mmproj.hpp"
#include "tenx/model/analytic.hpp"
#include "tenx/tensor/dtype.hpp"
#include "tenx/util/error.hpp"

namespace tenx::cli {
namespace {

struct InspectArgs {
  std::vector<std::string> models;
  std::string model;
  std::string dtype;
  int64_t ctx = 0;
  bool json = false;
  bool all_keys = false;
};

std::string value_summary(const GgufValue& v) {
  switch (v.type) {
    case GgufType::STRING: return v.s.size() > 60 ? printable(v.s.substr(0, 57)) + "..." : printable(v.s);
    case GgufType::ARRAY: return fmt::format("[{} x {}]", v.array_size(), gguf_type_name(v.array_type));
    case GgufType::FLOAT32: case GgufType::FLOAT64: return fmt::format("{}", v.f);
    case GgufType::BOOL: return v.i ? "true" : "false";
    case GgufType::UINT64: return fmt::format("{}", static_cast<uint64_t>(v.i));
    default: return fmt::format("{}", v.i);
  }
}

nlohmann::ordered_json value_json(const GgufValue& v) {
  switch (v.type) {
    case GgufType::STRING: return v.s;
    case GgufType::ARRAY: return {{"type", gguf_type_name(v.array_type)}, {"count", v.array_size()}};
    case GgufType::FLOAT32: case GgufType::FLOAT64: return v.f;
    case GgufType::BOOL: return v.i != 0;
    case GgufType::UINT64: return static_cast<uint64_t>(v.i);
    default: return v.i;
  }
}

void run_file(const InspectArgs& a);

void run(InspectArgs a) {
  std::optional<DType> matrices;
  if (!a.dtype.empty()) {
    matrices = dtype_from_name(a.dtype);
    if (!matrices) throw Error("--dtype", fmt::format("unknown storage type '{}' (f32, f16, bf16, q8_0, q4_0, q4_k, q6_k)", a.dtype));
  }
  if (a.models.size() > 1) {
    std::vector<InspectEntry> entries;
    for (const std::string& m : a.models) entries.push_back(inspect_entry(m, matrices));
    print_side_by_side(entries, a.ctx, a.json);
    return;
  }
  a.model = a.models.front();
  if (is_config_only(a.model)) {
    print_analytic(inspect_entry(a.model, matrices), a.ctx, a.json);
    return;
  }
  if (matrices) throw Error(a.model, "--dtype applies to a config.json; a model's storage types are its own");
  if (inspect_if_mmproj(a.model, a.json, a.all_keys)) return;  // a vision encoder (docs/vision.md)
  run_file(a);
}

void run_file(const InspectArgs& a) {
  auto lm = load_model_with_tokenizer(a.model);
  const Model& m = lm->model;
  const ModelConfig& c = m.config;
  const ModelSpec spec = ModelSpec::of(m);
  const int64_t ctx = a.ctx > 0 ? a.ctx : c.n_ctx_train;
  const int64_t n_params = m.n_params();
  const uint64_t wbytes = m.weight_bytes();
  std::map<std::string, std::pair<int64_t, uint64_t>> by_type;  // type -> (elements, bytes)
  for (const auto& t : m.file.tensors) {
    auto& e = by_type[std::string(dtype_name(t.type))];
    e.first += t.elements();
    e.second += t.nbytes;
  }
  const ContextCost cost = context_cost(spec, ctx);

  if (a.json) {
    nlohmann::ordered_json j;
    j["model"] = a.model;
    j["file_bytes"] = m.file.file_bytes;
    j["architecture"] = arch_name(c.arch);
    j["config"] = {{"n_vocab", c.n_vocab}, {"n_embd", c.n_embd}, {"n_layer", c.n_layer}, {"n_head", c.n_head},
                   {"n_head_kv", c.n_head_kv}, {"head_dim", c.head_dim}, {"n_rot", c.n_rot}, {"n_ff", c.n_ff},
                   {"n_ctx_train", c.n_ctx_train}, {"rope_base", c.rope_base}, {"rms_eps", c.rms_eps},
                   {"tied_output", c.tied_output}, {"qkv_bias", c.qkv_bias},
                   {"qk_norm", !c.layers.empty() && c.layers[0].qk_norm},
                   {"rope_neox", !c.layers.empty() && c.layers[0].rope_style == RopeStyle::NeoX},
                   {"rope_freq_scale", c.rope_freq_scale}, {"rope_freq_factors", c.rope_freq_factors.size()},
                   {"sliding_window", c.sliding_window}};
    j["n_params"] = n_params;
    j["n_active_params"] = m.n_active_params();
    if (c.n_expert > 0)
      j["experts"] = {{"n_expert", c.n_expert}, {"n_expert_used", c.n_expert_used}, {"n_ff_exp", c.n_ff_exp}};
    j["weight_bytes"] = wbytes;
    j["bits_per_weight"] = 8.0 * static_cast<double>(wbytes) / static_cast<double>(n_params);
    nlohmann::ordered_json bt = nlohmann::ordered_json::object();
    for (const auto& [k, v] : by_type) bt[k] = {{"elements", v.first}, {"bytes", v.second}};
    j["weights_by_type"] = bt;
    j["context"] = ctx;
    j["flops_per_token"] = cost.per_token.total_flops();
    j["flops_per_token_detail"] = counters_json(cost.per_token)["decode"];
    j["memory"] = {{"weights", wbytes}, {"kv_cache", cost.kv_bytes}, {"working_buffers", cost.working_bytes},
                   {"total", wbytes + cost.kv_bytes + cost.working_bytes}};
    j["tokenizer"] = lm->tokenizer ? nlohmann::ordered_json{{"model", lm->tokenizer->model()},
                                                            {"pre", lm->tokenizer->pre()},
                                                            {"n_vocab", lm->tokenizer->n_vocab()},
                                                            {"bos", lm->tokenizer->bos_id()},
                                                            {"eos", lm->tokenizer->eos_id()}}
                                   : nlohmann::ordered_json(nullptr);
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    for (const auto& [k, v] : m.file.meta.entries()) meta[k] = value_json(v);
    j["metadata"] = meta;
    j["n_tensors"] = m.file.tensors.size();
    fmt::print("{}\n", j.dump(2));
    return;
  }
  fmt::print("model          {}\n", a.model);
  if (auto name = m.file.meta.find("general.name"); name && name->type == GgufType::STRING)
    fmt::print("name           {}\n", printable(name->s));
  fmt::print("architecture   {}\n", arch_name(c.arch));
  fmt::print("dimensions     vocab {}, embd {}, layers {}, heads {} (kv {}), head size {}, ffn {}\n", c.n_vocab,
             c.n_embd, c.n_layer, c.n_head, c.n_head_kv, c.head_dim, c.n_ff);
  const LayerConfig& l0 = c.layer(0);
  fmt::print("rope           base {}, dims {} ({}){}{}\n", c.rope_base, c.n_rot,
             l0.rope_style == RopeStyle::NeoX ? "neox pairs" : "normal pairs",
             c.rope_freq_factors.empty() ? "" : ", per-pair frequency factors (rope_freqs)",
             c.rope_freq_scale != 1.0f ? fmt::format(", linear scale {}", c.rope_freq_scale) : "");
  if (c.sliding_window > 0) {
    const auto local = std::count_if(c.layers.begin(), c.layers.end(), [](const LayerConfig& l) { return l.sliding_window > 0; });
    const auto nope = std::count_if(c.layers.begin(), c.layers.end(), [](const LayerConfig& l) { return !l.rope; });
    // gemma3 and muse-glimmer's local layers are unscaled, gemma2's keep the model's scale.
    const auto it = std::find_if(c.layers.begin(), c.layers.end(), [](const LayerConfig& l) { return l.sliding_window > 0; });
    const bool scaled = it != c.layers.end() && it->rope_freq_scale != 1.0f;
    fmt::print("attention      sliding window {} on {} of {} layers (rope base {}{}){}\n", c.sliding_window, local,
               c.n_layer, c.rope_base_swa, scaled ? "" : ", unscaled",
               nope > 0 ? fmt::format("; no RoPE on the other {}", nope) : "");
    // What the memory line below counts: the window plus one batch of 512, not the context.
    if (it != c.layers.end())
      fmt::print("KV cache       the sliding layers keep the last {} positions (window {} + batch 512 - 1), the "
                 "others every position\n",
                 kv_positions_kept(*it, int64_t{1} << 40, 512), c.sliding_window);
  }
  if (c.attn_softcap > 0 || c.final_softcap > 0 || c.logit_scale != 1.0f || c.embd_norm || l0.attn_gate)
    fmt::print("caps           attention scores {}, logits times {} then capped at {}{}{}\n",
               c.attn_softcap > 0 ? fmt::format("capped at {}", c.attn_softcap) : "uncapped", c.logit_scale,
               c.final_softcap > 0 ? fmt::format("{}", c.final_softcap) : "none",
               c.embd_norm ? "; embeddings RMS-normed" : "", l0.attn_gate ? "; sigmoid attention output gate" : "");
  if (c.n_expert > 0) {
    int64_t moe_layers = 0, chunked = 0;
    for (const LayerConfig& lc : c.layers) moe_layers += lc.moe, chunked += lc.attn_chunk > 0;
    const bool l4 = c.moe_layer_step > 0;  // llama4: sigmoid gate on the input, shared expert, interleaved
    fmt::print("experts        {} per layer, {} per token ({}), expert ffn {}; {} of {} parameters active per token{}\n",
               c.n_expert, c.n_expert_used,
               l4 ? "top-k by score, sigmoid weight times the expert input, plus a shared expert"
                  : "softmax router, top-k renormalised",
               c.n_ff_exp, human_count(static_cast<double>(m.n_active_params())),
               human_count(static_cast<double>(n_params)),
               l4 ? fmt::format("; {} of {} layers are experts, {} chunked (chunk {})", moe_layers, c.n_layer, chunked,
                                c.attn_chunk)
                  : "");
  }
  fmt::print("output         {}{}{}\n", c.tied_output ? "tied to token_embd" : "separate output.weight",
             c.qkv_bias ? ", q/k/v biases" : "", l0.qk_norm ? ", q/k RMS norms" : "");
  fmt::print("parameters     {} ({})\n", n_params, human_count(static_cast<double>(n_params)));
  fmt::print("size           {} in {} tensors, {:.2f} bits per weight\n", human_bytes(static_cast<double>(wbytes)),
             m.file.tensors.size(), 8.0 * static_cast<double>(wbytes) / static_cast<double>(n_params));
  for (const auto& [k, v] : by_type)
    fmt::print("  {:<12} {:>14} elements  {:>12}\n", k, v.first, human_bytes(static_cast<double>(v.second)));
  if (lm->tokenizer)
    fmt::print("tokenizer      {} (pre {}), {} tokens, bos {}, eos {}\n", lm->tokenizer->model(),
               lm->tokenizer->pre(), lm->tokenizer->n_vocab(), lm->tokenizer->bos_id(), lm->tokenizer->eos_id());
  else
    fmt::print("tokenizer      none\n");
  print_context_cost(cost, wbytes);
  if (a.all_keys) {
    fmt::print("\nmetadata ({} keys):\n", m.file.meta.size());
    for (const auto& [k, v] : m.file.meta.entries()) fmt::print("  {:<44} {}\n", k, value_summary(v));
  }
}

const Registrar inspect_command{"inspect", [](CLI::App& app) {
  auto args = std::make_shared<InspectArgs>();
  auto* sub = app.add_subcommand("inspect", "Show a model's architecture, size, FLOPs per token and memory");
  sub->add_option("models", args->models,
                  "GGUF file, Hugging Face directory or config.json (weights not needed); several: side by side")
      ->required();
  sub->add_option("--dtype", args->dtype, "Storage type of a config.json's matrices (default: its torch_dtype)");
  sub->add_option("--ctx", args->ctx, "Context length for FLOPs and memory (default: the model's; 4096 side by side)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 24));
  sub->add_flag("--keys", args->all_keys, "Also list every metadata key");
  sub->add_flag("--json", args->json, "Print JSON");
  sub->callback([args] { run(*args); });
}};

}  // namespace
}  // namespace tenx::cli
