// tokenizer.json -> GGUF tokenizer keys. Only byte-level BPE (GPT-2 / Llama 3 /
// Qwen2 style) maps onto llama.cpp's "gpt2" model; anything else leaves the model
// tokenizer-less (the caller records tenx.vocab_size).
#include "hf_tokenizer.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>

#include "tenx/util/error.hpp"
#include "tenx/util/read_file.hpp"

namespace tenx {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int64_t kTokenNormal = 1, kTokenControl = 3, kTokenUserDefined = 4, kTokenUnused = 5;

// j[key] or null: operator[] on a const json with a missing key is undefined.
const json& member(const json& j, const char* key) {
  static const json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

// Depth-first search for an object with "type": type_name anywhere under j.
const json* find_typed(const json& j, std::string_view type_name) {
  if (j.is_object()) {
    auto it = j.find("type");
    if (it != j.end() && it->is_string() && it->get<std::string>() == type_name) return &j;
    for (const auto& [k, v] : j.items())
      if (const json* r = find_typed(v, type_name)) return r;
  } else if (j.is_array()) {
    for (const auto& v : j)
      if (const json* r = find_typed(v, type_name)) return r;
  }
  return nullptr;
}

// llama.cpp's pre-tokenizer name for the Split regex (docs/gguf-format.md §4).
std::string guess_pre(const json& tok) {
  const json* split = find_typed(member(tok, "pre_tokenizer"), "Split");
  if (!split || !split->contains("pattern") || !(*split)["pattern"].contains("Regex")) return "gpt-2";
  const auto& re = (*split)["pattern"]["Regex"];
  if (!re.is_string()) return "gpt-2";
  const std::string r = re.get<std::string>();
  const bool llama3_letters = r.find("[^\\r\\n\\p{L}\\p{N}]?\\p{L}+") != std::string::npos;
  if (llama3_letters && r.find("\\p{N}{1,3}") != std::string::npos) return "llama-bpe";
  if (llama3_letters && r.find("|\\p{N}|") != std::string::npos) return "qwen2";
  return "gpt-2";
}

// A token named in tokenizer_config.json: a string or {"content": ...}.
std::optional<std::string> token_text(const json& cfg, const char* key) {
  if (!cfg.contains(key)) return std::nullopt;
  const auto& v = cfg[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return std::nullopt;
}

json read_json_if_exists(const fs::path& p) {
  if (!fs::exists(p)) return json::object();
  json j = json::parse(read_file(p), nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw Error(p.string(), "is not a valid JSON object");
  return j;
}

}  // namespace

bool add_hf_tokenizer(const std::string& dir, uint64_t n_vocab, Metadata& meta) {
  const fs::path tok_path = fs::path(dir) / "tokenizer.json";
  if (!fs::exists(tok_path)) return false;
  const std::string subject = tok_path.string();
  const json tok = read_json_if_exists(tok_path);
  if (!tok.contains("model") || !tok["model"].is_object()) throw Error(subject, "has no 'model' object");
  const json& model = tok["model"];
  const bool byte_level = find_typed(member(tok, "pre_tokenizer"), "ByteLevel") || find_typed(member(tok, "decoder"), "ByteLevel");
  if (!model.contains("type") || model["type"] != "BPE" || !byte_level) return false;
  if (!model.contains("vocab") || !model["vocab"].is_object()) throw Error(subject, "model.vocab is not an object");

  // id -> (text, type); ids come from the vocab and the added tokens.
  std::unordered_map<int64_t, std::pair<std::string, int64_t>> by_id;
  int64_t max_id = -1;
  auto add = [&](const std::string& text, const json& id, int64_t type) {
    if (!id.is_number_unsigned() || id.get<uint64_t>() >= (1u << 24))
      throw Error(subject, fmt::format("token '{}' has invalid id {}", text, id.dump()));
    const int64_t i = id.get<int64_t>();
    by_id[i] = {text, type};
    max_id = std::max(max_id, i);
  };
  for (const auto& [text, id] : model["vocab"].items()) add(text, id, kTokenNormal);
  if (tok.contains("added_tokens") && tok["added_tokens"].is_array())
    for (const auto& a : tok["added_tokens"]) {
      if (!a.is_object() || !a.contains("content") || !a["content"].is_string() || !a.contains("id"))
        throw Error(subject, "an added_tokens entry lacks content or id");
      add(a["content"].get<std::string>(), a["id"], a.contains("special") && a["special"] == true ? kTokenControl : kTokenUserDefined);
    }
  const int64_t size = std::max<int64_t>(max_id + 1, static_cast<int64_t>(n_vocab));
  std::vector<std::string> tokens(static_cast<size_t>(size));
  std::vector<int64_t> types(static_cast<size_t>(size), kTokenUnused);
  std::unordered_map<std::string, int64_t> id_of;
  for (int64_t i = 0; i < size; ++i) {
    auto it = by_id.find(i);
    if (it == by_id.end()) {
      tokens[i] = fmt::format("[PAD{}]", i);  // as convert_hf_to_gguf.py pads a short vocab
    } else {
      tokens[i] = it->second.first;
      types[i] = it->second.second;
      id_of.emplace(tokens[i], i);
    }
  }

  std::vector<std::string> merges;
  if (model.contains("merges") && model["merges"].is_array()) {
    for (const auto& m : model["merges"]) {
      if (m.is_string()) merges.push_back(m.get<std::string>());
      else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string())
        merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
      else throw Error(subject, fmt::format("merge entry {} is neither \"a b\" nor [a, b]", m.dump()));
    }
  }
  if (merges.empty()) throw Error(subject, "byte-level BPE without merges (llama.cpp requires merges)");

  meta.set("tokenizer.ggml.model", GgufValue::str("gpt2"));
  meta.set("tokenizer.ggml.pre", GgufValue::str(guess_pre(tok)));
  meta.set("tokenizer.ggml.tokens", GgufValue::str_array(std::move(tokens)));
  meta.set("tokenizer.ggml.token_type", GgufValue::i32_array(std::move(types)));
  meta.set("tokenizer.ggml.merges", GgufValue::str_array(std::move(merges)));

  // Special ids: tokenizer_config.json names them by text, config.json by id.
  const json tcfg = read_json_if_exists(fs::path(dir) / "tokenizer_config.json");
  const json cfg = read_json_if_exists(fs::path(dir) / "config.json");
  auto special = [&](const char* text_key, const char* id_key, const char* gguf_key) {
    if (auto text = token_text(tcfg, text_key)) {
      auto it = id_of.find(*text);
      if (it != id_of.end()) return meta.set(gguf_key, GgufValue::u32(static_cast<uint32_t>(it->second)));
    }
    if (cfg.contains(id_key) && cfg[id_key].is_number_unsigned() && cfg[id_key].get<uint64_t>() < static_cast<uint64_t>(size))
      meta.set(gguf_key, GgufValue::u32(cfg[id_key].get<uint32_t>()));
  };
  special("bos_token", "bos_token_id", "tokenizer.ggml.bos_token_id");
  special("eos_token", "eos_token_id", "tokenizer.ggml.eos_token_id");
  special("pad_token", "pad_token_id", "tokenizer.ggml.padding_token_id");

  // add_bos: an explicit flag wins; otherwise whether the post-processor's
  // single-sequence template starts with a special token.
  bool add_bos = false;
  if (tcfg.contains("add_bos_token") && tcfg["add_bos_token"].is_boolean()) {
    add_bos = tcfg["add_bos_token"].get<bool>();
  } else if (const json* tp = find_typed(member(tok, "post_processor"), "TemplateProcessing")) {
    if (tp->contains("single") && (*tp)["single"].is_array() && !(*tp)["single"].empty())
      add_bos = (*tp)["single"][0].contains("SpecialToken");
  }
  meta.set("tokenizer.ggml.add_bos_token", GgufValue::boolean(add_bos));
  if (tcfg.contains("add_eos_token") && tcfg["add_eos_token"].is_boolean())
    meta.set("tokenizer.ggml.add_eos_token", GgufValue::boolean(tcfg["add_eos_token"].get<bool>()));
  if (tcfg.contains("chat_template") && tcfg["chat_template"].is_string())
    meta.set("tokenizer.chat_template", GgufValue::str(tcfg["chat_template"].get<std::string>()));
  return true;
}

}  // namespace tenx
