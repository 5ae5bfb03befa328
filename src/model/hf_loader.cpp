// Hugging Face directory -> the GGUF representation (docs/gguf-format.md §3):
// config.json becomes {arch}.* hyper-parameter keys (model/hf_config.hpp reads it,
// set_hparams writes them), tensors get GGUF names and
// ggml shapes, llama q/k rows are permuted from HF's rotate-half RoPE layout to
// ggml's interleaved pairs, and a byte-level BPE tokenizer.json becomes the
// tokenizer.ggml.* keys. Tensors keep their stored dtype (F32/F16/BF16).
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

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

json read_json(const fs::path& p) {
  json j = json::parse(read_file(p), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) throw Error(p.string(), "is not a valid JSON object");
  return j;
}

// GGUF name of a Hugging Face tensor and its place in the canonical order;
// empty name for tensors that carry no weights (rotary caches).
struct MappedName {
  std::string name;
  int64_t order = 0;
};

MappedName gguf_name(const std::string& subject, const std::string& hf, int64_t n_layer) {
  static const std::pair<const char*, const char*> kLayer[] = {
      {"input_layernorm.weight", "attn_norm.weight"},  {"self_attn.q_proj.weight", "attn_q.weight"},
      {"self_attn.q_proj.bias", "attn_q.bias"},        {"self_attn.k_proj.weight", "attn_k.weight"},
      {"self_attn.k_proj.bias", "attn_k.bias"},        {"self_attn.v_proj.weight", "attn_v.weight"},
      {"self_attn.v_proj.bias", "attn_v.bias"},        {"self_attn.o_proj.weight", "attn_output.weight"},
      {"self_attn.o_proj.bias", "attn_output.bias"},   {"post_attention_layernorm.weight", "ffn_norm.weight"},
      {"mlp.gate_proj.weight", "ffn_gate.weight"},     {"mlp.up_proj.weight", "ffn_up.weight"},
      {"mlp.down_proj.weight", "ffn_down.weight"},     {"self_attn.q_norm.weight", "attn_q_norm.weight"},
      {"self_attn.k_norm.weight", "attn_k_norm.weight"},  {"mlp.gate.weight", "ffn_gate_inp.weight"},
  };
  // Mixture of experts: mlp.experts.E.{gate,up,down}_proj.weight are stacked into one 3-D tensor each
  // (stack_experts), named here with the expert's index after a '#'.
  static const std::pair<const char*, const char*> kExpert[] = {
      {"gate_proj.weight", "ffn_gate_exps.weight"}, {"down_proj.weight", "ffn_down_exps.weight"},
      {"up_proj.weight", "ffn_up_exps.weight"}};
  constexpr int64_t kPerLayer = 100;
  if (hf.ends_with("rotary_emb.inv_freq")) return {};
  if (hf == "model.embed_tokens.weight") return {"token_embd.weight", 0};
  if (hf == "model.norm.weight") return {"output_norm.weight", kPerLayer * static_cast<int64_t>(n_layer + 1)};
  if (hf == "lm_head.weight") return {"output.weight", kPerLayer * static_cast<int64_t>(n_layer + 1) + 1};
  const std::string prefix = "model.layers.";
  if (hf.starts_with(prefix)) {
    const size_t dot = hf.find('.', prefix.size());
    const std::string idx = hf.substr(prefix.size(), dot == std::string::npos ? 0 : dot - prefix.size());
    if (!idx.empty() && idx.size() < 10 && std::all_of(idx.begin(), idx.end(), ::isdigit)) {
      const int64_t layer = static_cast<int64_t>(std::stoull(idx));
      if (layer >= n_layer)
        throw Error(subject, fmt::format("tensor '{}' belongs to layer {} but the model has {} layers", hf, layer, n_layer));
      const std::string rest = hf.substr(dot + 1);
      for (size_t k = 0; k < std::size(kLayer); ++k)
        if (rest == kLayer[k].first)
          return {fmt::format("blk.{}.{}", layer, kLayer[k].second),
                  kPerLayer * static_cast<int64_t>(layer + 1) + static_cast<int64_t>(k)};
      const std::string experts = "mlp.experts.";
      if (rest.starts_with(experts)) {
        const size_t edot = rest.find('.', experts.size());
        const std::string e = rest.substr(experts.size(), edot == std::string::npos ? 0 : edot - experts.size());
        if (!e.empty() && e.size() < 6 && std::all_of(e.begin(), e.end(), ::isdigit))
          for (size_t k = 0; k < std::size(kExpert); ++k)
            if (rest.substr(edot + 1) == kExpert[k].first)
              return {fmt::format("blk.{}.{}#{}", layer, kExpert[k].second, e),
                      kPerLayer * static_cast<int64_t>(layer + 1) + static_cast<int64_t>(std::size(kLayer) + k)};
      }
    }
  }
  throw Error(subject, fmt::format("tensor '{}' has no GGUF name in tenx's families ({})", hf, family_names()));
}

// HF llama checkpoints rotate the pairs (x[i], x[i + d/2]) of each head; ggml's
// llama RoPE rotates (x[2i], x[2i+1]). Row h*d + 2i + j of the result is row
// h*d + j*d/2 + i of the source, i.e. convert_hf_to_gguf's
// w.reshape(n_head, 2, d/2, cols).swapaxes(1, 2).reshape(rows, cols).
void permute_rope_rows(const uint8_t* src, uint8_t* dst, int64_t rows, int64_t row_bytes, int64_t n_head) {
  const int64_t d = rows / n_head, half = d / 2;
  for (int64_t h = 0; h < n_head; ++h)
    for (int64_t i = 0; i < half; ++i)
      for (int64_t j = 0; j < 2; ++j)
        std::memcpy(dst + (h * d + 2 * i + j) * row_bytes, src + (h * d + j * half + i) * row_bytes,
                    static_cast<size_t>(row_bytes));
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

// Per-pair RoPE divisors computed from rope_scaling become the tensor llama.cpp's converter
// writes (rope_freqs.weight, F32), so the GGUF form of the directory carries them.
TensorView rope_freqs_tensor(HfStorage& storage, const std::vector<float>& factors) {
  auto& buf = storage.buffers.emplace_back(factors.size() * sizeof(float));
  std::memcpy(buf.data(), factors.data(), buf.size());
  TensorView v;
  v.name = "rope_freqs.weight";
  v.type = DType::F32;
  v.n_dims = 1;
  v.ne = {static_cast<int64_t>(factors.size()), 1, 1, 1};
  v.data = buf.data();
  v.nbytes = buf.size();
  return v;
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

}  // namespace

ModelFile load_hf_dir(const std::string& dir_path) {
  const fs::path dir(dir_path);
  if (!fs::is_directory(dir)) throw Error(dir_path, "is not a directory");
  const ModelConfig cfg = config_from_hf(read_json(dir / "config.json"), (dir / "config.json").string());
  const Family& fam = family_of(cfg.arch, dir_path);

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
      MappedName mapped = gguf_name(shard.path, st.name, cfg.n_layer);
      if (mapped.name.empty() || (cfg.tied_output && mapped.name == "output.weight")) continue;
      TensorView v;
      v.name = mapped.name;
      v.type = st.type;
      v.n_dims = static_cast<int>(st.shape.size());
      for (size_t d = 0; d < st.shape.size(); ++d) v.ne[d] = st.shape[st.shape.size() - 1 - d];
      v.nbytes = st.nbytes;
      v.data = st.data;
      const bool is_q = mapped.name.ends_with("attn_q.weight") || mapped.name.ends_with("attn_q.bias");
      const bool is_k = mapped.name.ends_with("attn_k.weight") || mapped.name.ends_with("attn_k.bias");
      const int64_t elem = dtype_info(v.type).block_bytes;
      if (fam.hf_permute_qk && (is_q || is_k)) {
        const int64_t heads = static_cast<int64_t>(is_q ? cfg.n_head : cfg.n_head_kv);
        const int64_t rows = v.n_dims == 1 ? v.ne[0] : v.rows();
        const int64_t row_bytes = v.n_dims == 1 ? elem : v.row_bytes();
        if (rows != heads * static_cast<int64_t>(cfg.head_dim))
          throw Error(shard.path, fmt::format("tensor '{}' has {} rows, expected {} heads x head_dim {}", st.name, rows,
                                              heads, cfg.head_dim));
        auto& buf = storage->buffers.emplace_back(v.nbytes);
        permute_rope_rows(st.data, buf.data(), rows, row_bytes, heads);
        v.data = buf.data();
      } else if (reinterpret_cast<uintptr_t>(st.data) % static_cast<uintptr_t>(elem) != 0) {
        auto& buf = storage->buffers.emplace_back(st.data, st.data + st.nbytes);  // realign for typed access
        v.data = buf.data();
      }
      pending.push_back({std::move(mapped), v});
    }
  }
  if (cfg.n_expert > 0) stack_experts(dir_path, *storage, pending, cfg.n_expert);
  if (!cfg.rope_freq_factors.empty())
    pending.push_back({{"rope_freqs.weight", -1}, rope_freqs_tensor(*storage, cfg.rope_freq_factors)});
  std::sort(pending.begin(), pending.end(), [](const auto& x, const auto& y) { return x.first.order < y.first.order; });
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
