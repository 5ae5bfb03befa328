// Hugging Face directory -> the GGUF representation (docs/gguf-format.md §3), tensor by tensor as
// llama.cpp's converter makes it: config.json becomes {arch}.* hyper-parameter keys
// (model/hf_config.hpp reads it, set_hparams writes them); tensors get GGUF names (a
// ConditionalGeneration's text part, its vision side skipped) and ggml shapes; llama and
// muse-glimmer q/k rows are permuted from HF's rotate-half RoPE layout to ggml's interleaved
// pairs; Gemma's and muse-glimmer's norms get their +1; qwen3_moe experts are stacked and llama4's
// split and transposed; muse-glimmer's q/k norm weights are synthesized; a byte-level BPE
// tokenizer.json becomes the tokenizer.ggml.* keys. Matrices keep their stored dtype
// (F32/F16/BF16); shifted norms and synthesized vectors are F32.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "hf_tensor_names.hpp"
#include "hf_tensor_ops.hpp"
#include "hf_tokenizer.hpp"
#include "tenx/model/arch.hpp"
#include "tenx/model/hf_config.hpp"
#include "tenx/model/model_file.hpp"
#include "tenx/model/safetensors.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/read_file.hpp"

namespace tenx {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using hf::gguf_name;
using hf::MappedName;
using hf::text_model_name;

json read_json(const fs::path& p) {
  json j = json::parse(read_file(p), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) throw Error(p.string(), "is not a valid JSON object");
  return j;
}

struct HfStorage {
  std::vector<SafetensorsFile> shards;
  std::vector<std::vector<uint8_t>> buffers;  // permuted or realigned tensors
};

std::vector<std::string> shard_files(const fs::path& dir) {
  const fs::path single = dir / "model.safetensors";
  const fs::path index = dir / "model.safetensors.index.json";
  if (fs::exists(index)) {
    const json j = read_json(index);
    if (!j.contains("weight_map") || !j["weight_map"].is_object())
      throw Error(index.string(), "has no 'weight_map' object");
    std::set<std::string> files;
    for (const auto& [name, file] : j["weight_map"].items()) {
      if (!file.is_string()) throw Error(index.string(), fmt::format("weight_map entry '{}' is not a file name", name));
      const std::string f = file.get<std::string>();
      if (f.find('/') != std::string::npos || f == "..")
        throw Error(index.string(), fmt::format("weight_map entry '{}' names '{}' outside the directory", name, f));
      files.insert(f);
    }
    if (files.empty()) throw Error(index.string(), "weight_map is empty");
    std::vector<std::string> out;
    for (const auto& f : files) out.push_back((dir / f).string());
    return out;
  }
  if (fs::exists(single)) return {single.string()};
  throw Error(dir.string(), "has neither model.safetensors nor model.safetensors.index.json");
}

// The experts' 2-D matrices (names "blk.N.ffn_*_exps.weight#e") become one [cols, rows, n_expert]
// tensor per name, as llama.cpp's converter stacks them: every expert present once, all of one
// type and shape.
void stack_experts(const std::string& subject, HfStorage& storage, std::vector<std::pair<MappedName, TensorView>>& pending,
                   int64_t n_expert) {
  std::map<std::string, std::pair<int64_t, std::vector<const TensorView*>>> stacks;  // name -> (order, experts)
  for (auto& [mapped, view] : pending) {
    const size_t hash = mapped.name.find('#');
    if (hash == std::string::npos) continue;
    const int64_t e = std::stoll(mapped.name.substr(hash + 1));
    auto& [order, experts] = stacks[mapped.name.substr(0, hash)];
    order = mapped.order;
    experts.resize(static_cast<size_t>(n_expert), nullptr);
    if (e >= n_expert)
      throw Error(subject, fmt::format("expert {} of '{}' but num_experts is {}", e, mapped.name.substr(0, hash), n_expert));
    experts[static_cast<size_t>(e)] = &view;
  }
  std::vector<std::pair<MappedName, TensorView>> stacked;
  for (const auto& [name, entry] : stacks) {
    const auto& experts = entry.second;
    for (size_t e = 0; e < experts.size(); ++e)
      if (!experts[e]) throw Error(subject, fmt::format("'{}' lacks expert {}", name, e));
    const TensorView& first = *experts[0];
    if (first.n_dims != 2) throw Error(subject, fmt::format("'{}': expert matrices must be 2-D", name));
    for (const TensorView* x : experts)
      if (x->type != first.type || x->ne != first.ne || x->nbytes != first.nbytes)
        throw Error(subject, fmt::format("'{}': experts differ in type or shape", name));
    auto& buf = storage.buffers.emplace_back(first.nbytes * experts.size());
    for (size_t e = 0; e < experts.size(); ++e)
      std::memcpy(buf.data() + e * first.nbytes, experts[e]->data, first.nbytes);
    TensorView v = first;
    v.name = name;
    v.n_dims = 3;
    v.ne[2] = static_cast<int64_t>(experts.size());
    v.data = buf.data();
    v.nbytes = buf.size();
    stacked.push_back({{name, entry.first}, v});
  }
  std::erase_if(pending, [](const auto& p) { return p.first.name.find('#') != std::string::npos; });
  for (auto& p : stacked) pending.push_back(std::move(p));
}

// An owned F32 1-D tensor (muse-glimmer's synthesized q/k norm weights, rope_freqs).
TensorView f32_vector(HfStorage& storage, const std::string& name, const std::vector<float>& values) {
  auto& buf = storage.buffers.emplace_back(values.size() * sizeof(float));
  std::memcpy(buf.data(), values.data(), buf.size());
  TensorView v;
  v.name = name;
  v.type = DType::F32;
  v.n_dims = 1;
  v.ne = {static_cast<int64_t>(values.size()), 1, 1, 1};
  v.data = buf.data();
  v.nbytes = buf.size();
  return v;
}

// llama4's stacked experts (conversion/llama.py, Llama4Model.modify_tensors): gate_up_proj
// [E, n_embd, 2F] is transposed and split into ffn_gate_exps and ffn_up_exps ([E, F, n_embd]
// each, ggml {n_embd, F, E}); down_proj [E, F, n_embd] is transposed into ffn_down_exps.
void add_llama4_experts(const std::string& subject, HfStorage& storage, const MappedName& mapped, const TensorView& v,
                        const ModelConfig& cfg, std::vector<std::pair<MappedName, TensorView>>& pending) {
  const bool gate_up = mapped.kind == MappedName::Llama4GateUp;
  const int64_t f = cfg.n_ff_exp, d = cfg.n_embd;
  const std::array<int64_t, 4> want = gate_up ? std::array<int64_t, 4>{2 * f, d, cfg.n_expert, 1}
                                              : std::array<int64_t, 4>{d, f, cfg.n_expert, 1};
  if (v.n_dims != 3 || v.ne != want)
    throw Error(subject, fmt::format("tensor '{}' has shape [{}, {}, {}], expected [{}, {}, {}] (num_local_experts, {})",
                                     mapped.name, v.ne[2], v.ne[1], v.ne[0], want[2], want[1], want[0],
                                     gate_up ? "hidden_size, 2 x intermediate_size" : "intermediate_size, hidden_size"));
  auto add = [&](const std::string& name, int64_t order, int64_t col_begin, int64_t n) {
    auto& buf = storage.buffers.emplace_back(hf::transpose_expert_columns(v, col_begin, n));
    TensorView t = v;
    t.name = name;
    t.ne = {v.ne[1], n, v.ne[2], 1};
    t.data = buf.data();
    t.nbytes = buf.size();
    pending.push_back({{name, order}, t});
  };
  if (gate_up) {
    const std::string up = mapped.name.substr(0, mapped.name.find("ffn_gate_exps")) + "ffn_up_exps.weight";
    add(mapped.name, mapped.order, 0, f);
    add(up, mapped.order + 2, f, f);  // after down (order + 1), as the qwen3moe stacks
  } else {
    add(mapped.name, mapped.order, 0, d);
  }
}

// Gemma 3 (conversion/gemma.py): with tokenizer.json and no tokenizer.model, the converter keeps
// the first len(model.vocab) + len(added_tokens) rows of the embeddings (the rest are padding no
// token reaches, but they would take part in every softmax). With tokenizer.model it keeps
// vocab_size rows, i.e. all of them.
void trim_vocab_to_tokenizer(const fs::path& dir, ModelFile& mf, ModelConfig& cfg) {
  const fs::path tok_path = dir / "tokenizer.json";
  if (fs::exists(dir / "tokenizer.model") || !fs::exists(tok_path)) return;
  const json tok = read_json(tok_path);
  if (!tok.contains("model") || !tok["model"].is_object() || !tok["model"].contains("vocab") ||
      !tok["model"]["vocab"].is_object())
    throw Error(tok_path.string(), "has no model.vocab object");
  const auto added = tok.contains("added_tokens") && tok["added_tokens"].is_array() ? tok["added_tokens"].size() : 0;
  const auto n_real = static_cast<int64_t>(tok["model"]["vocab"].size() + added);
  if (n_real >= cfg.n_vocab) return;
  if (mf.find("output.weight"))
    throw Error(tok_path.string(), fmt::format("{} tokens but {} embedding rows and an untied lm_head: llama.cpp's "
                                               "converter would trim the embeddings only", n_real, cfg.n_vocab));
  for (TensorView& t : mf.tensors)
    if (t.name == "token_embd.weight") {
      t.ne[1] = n_real;
      t.nbytes = static_cast<uint64_t>(t.row_bytes() * n_real);
    }
  cfg.n_vocab = n_real;
}

}  // namespace

ModelFile load_hf_dir(const std::string& dir_path) {
  const fs::path dir(dir_path);
  if (!fs::is_directory(dir)) throw Error(dir_path, "is not a directory");
  const std::string config_path = (dir / "config.json").string();
  const json config_json = read_json(dir / "config.json");
  ModelConfig cfg = config_from_hf(config_json, config_path);
  const Family& fam = family_of(cfg.arch, dir_path);
  const std::string hf_arch = config_json.contains("architectures") && config_json["architectures"].is_array() &&
                                      !config_json["architectures"].empty() && config_json["architectures"][0].is_string()
                                  ? config_json["architectures"][0].get<std::string>()
                                  : "";
  const bool multimodal = hf_arch.ends_with("ForConditionalGeneration");

  auto storage = std::make_shared<HfStorage>();
  ModelFile mf;
  mf.path = dir_path;
  for (const auto& f : shard_files(dir)) {
    storage->shards.push_back(load_safetensors(f));
    mf.file_bytes += storage->shards.back().file_bytes;
  }

  std::vector<std::pair<MappedName, TensorView>> pending;
  std::set<std::string> seen;
  for (const auto& shard : storage->shards) {
    for (const auto& st : shard.tensors) {
      if (!seen.insert(st.name).second)
        throw Error(shard.path, fmt::format("tensor '{}' appears in more than one shard", st.name));
      const std::string hf_name = text_model_name(st.name);
      MappedName mapped = gguf_name(shard.path, hf_name, fam, cfg.n_layer, multimodal);
      if (mapped.kind == MappedName::Skip || (cfg.tied_output && mapped.name == "output.weight")) continue;
      TensorView v;
      v.name = mapped.name;
      v.type = st.type;
      v.n_dims = static_cast<int>(st.shape.size());
      for (size_t d = 0; d < st.shape.size(); ++d) v.ne[d] = st.shape[st.shape.size() - 1 - d];
      v.nbytes = st.nbytes;
      v.data = st.data;
      const int64_t elem = dtype_info(v.type).block_bytes;
      if (reinterpret_cast<uintptr_t>(st.data) % static_cast<uintptr_t>(elem) != 0) {
        auto& buf = storage->buffers.emplace_back(st.data, st.data + st.nbytes);  // realign for typed access
        v.data = buf.data();
      }
      if (mapped.kind == MappedName::Llama4GateUp || mapped.kind == MappedName::Llama4Down) {
        add_llama4_experts(shard.path, *storage, mapped, v, cfg, pending);
        continue;
      }
      const bool is_q = mapped.name.ends_with("attn_q.weight") || mapped.name.ends_with("attn_q.bias");
      const bool is_k = mapped.name.ends_with("attn_k.weight") || mapped.name.ends_with("attn_k.bias");
      if (fam.hf_permute_qk && (is_q || is_k)) {
        const int64_t heads = static_cast<int64_t>(is_q ? cfg.n_head : cfg.n_head_kv);
        const int64_t rows = v.n_dims == 1 ? v.ne[0] : v.rows();
        const int64_t row_bytes = v.n_dims == 1 ? elem : v.row_bytes();
        if (rows != heads * static_cast<int64_t>(cfg.head_dim))
          throw Error(shard.path, fmt::format("tensor '{}' has {} rows, expected {} heads x head_dim {}", st.name, rows,
                                              heads, cfg.head_dim));
        auto& buf = storage->buffers.emplace_back(v.nbytes);
        hf::permute_rope_rows(v.data, buf.data(), rows, row_bytes, heads);
        v.data = buf.data();
      }
      const bool shifted = (fam.hf_norm_shift == Family::HfNormShift::AllNorms && hf_name.ends_with("norm.weight")) ||
                           (fam.hf_norm_shift == Family::HfNormShift::LayerNorms && hf_name.ends_with("layernorm.weight"));
      if (shifted) {  // stored w - 1, applied (1 + w): the GGUF holds 1 + w, as F32
        if (v.n_dims != 1) throw Error(shard.path, fmt::format("norm tensor '{}' must be 1-D", st.name));
        auto& buf = storage->buffers.emplace_back(hf::norm_plus_one(v));
        v.type = DType::F32;
        v.data = buf.data();
        v.nbytes = buf.size();
      }
      // muse-glimmer: q and k go through RMS norms without weights, q's times qk_scale_factor;
      // the converter synthesizes those weights beside each q_proj (muse_glimmer.py).
      if (fam.muse_swa && mapped.name.ends_with("attn_q.weight")) {
        const json text = hf_text_config(config_json);
        const auto scale = static_cast<float>(text["qk_scale_factor"].get<double>());
        const std::string blk = mapped.name.substr(0, mapped.name.size() - std::string("attn_q.weight").size());
        const int64_t at = mapped.order - 1;  // just before attn_q (an order no named tensor of the layer has)
        pending.push_back({{blk + "attn_q_norm.weight", at},
                           f32_vector(*storage, blk + "attn_q_norm.weight",
                                      std::vector<float>(static_cast<size_t>(cfg.head_dim), scale))});
        pending.push_back({{blk + "attn_k_norm.weight", at},
                           f32_vector(*storage, blk + "attn_k_norm.weight",
                                      std::vector<float>(static_cast<size_t>(cfg.head_dim), 1.0f))});
      }
      pending.push_back({std::move(mapped), v});
    }
  }
  if (cfg.n_expert > 0 && !fam.llama4) stack_experts(dir_path, *storage, pending, cfg.n_expert);
  if (!cfg.rope_freq_factors.empty())
    pending.push_back({{"rope_freqs.weight", -1}, f32_vector(*storage, "rope_freqs.weight", cfg.rope_freq_factors)});
  std::stable_sort(pending.begin(), pending.end(), [](const auto& x, const auto& y) { return x.first.order < y.first.order; });
  std::set<std::string> names;
  for (const auto& p : pending)
    if (!names.insert(p.first.name).second)
      throw Error(dir_path, fmt::format("two tensors of the directory become GGUF tensor '{}' (llama.cpp's converter "
                                        "would write it twice)", p.first.name));
  bool any_bf16 = false, any_f16 = false;
  for (auto& p : pending) {
    if (p.second.n_dims >= 2) {
      any_bf16 |= p.second.type == DType::BF16;
      any_f16 |= p.second.type == DType::F16;
    }
    mf.tensors.push_back(std::move(p.second));
  }
  const TensorView* embd = mf.find("token_embd.weight");
  if (!embd) throw Error(dir_path, "has no model.embed_tokens.weight");
  // Checked before the tokenizer pads its vocabulary to vocab_size: a config.json claiming 4e9
  // tokens must be refused here, not allocated.
  if (embd->n_dims != 2 || embd->ne[1] != cfg.n_vocab)
    throw Error(dir_path, fmt::format("config.json vocab_size {} does not match model.embed_tokens.weight, which has "
                                      "{} rows", cfg.n_vocab, embd->n_dims == 2 ? embd->ne[1] : 0));

  if (fam.hf_vocab_from_tokenizer) trim_vocab_to_tokenizer(dir, mf, cfg);

  set_hparams(mf.meta, cfg);
  fs::path norm = fs::absolute(dir).lexically_normal();
  if (norm.filename().empty()) norm = norm.parent_path();  // "dir/" has an empty last component
  mf.meta.set("general.name", GgufValue::str(norm.filename().string()));
  mf.meta.set("general.file_type", GgufValue::u32(any_bf16 ? 32 : any_f16 ? 1 : 0));
  mf.meta.set("tenx.vocab_size", GgufValue::u32(static_cast<uint32_t>(cfg.n_vocab)));
  add_hf_tokenizer(dir_path, cfg.n_vocab, mf.meta);
  mf.storage = storage;
  return mf;
}

}  // namespace tenx
