// A model's chat template, rendering and prompt ids (model_chat.hpp). The same steps as the eval
// runner's chat protocol (src/eval/run/protocol.cpp, item_runner_chat.cpp), so that `tenx serve`'s
// /v1/chat/completions reads exactly what `tenx run --protocol chat` feeds.
#include "tenx/chat/model_chat.hpp"

#include <filesystem>

#include "tenx/util/sha256.hpp"

namespace tenx::chat {

std::optional<ModelChat> model_chat_of(const Metadata& meta, const std::string& subject) {
  const std::optional<std::string> text = meta.get_string("tokenizer.chat_template", subject);
  if (!text) {
    // A Hugging Face folder may keep its template in chat_template.jinja instead of
    // tokenizer_config.json (whose template the loader already put into the metadata).
    std::error_code ec;
    if (!std::filesystem::is_regular_file(std::filesystem::path(subject) / "chat_template.jinja", ec)) return std::nullopt;
    const ModelChatTemplate t = load_hf_chat_template(subject);
    return ModelChat{ChatTemplate::parse(t.text, t.source), t.bos_token, t.eos_token, t.text, sha256_hex(t.text)};
  }
  const GgufValue* tokens = meta.find("tokenizer.ggml.tokens");
  const auto token = [&](const char* key) -> std::string {
    const auto id = meta.get_uint(key, subject);
    if (!id || !tokens || *id >= tokens->strings.size()) return "";
    return tokens->strings[*id];
  };
  return ModelChat{ChatTemplate::parse(*text, subject + ": tokenizer.chat_template"),
                   token("tokenizer.ggml.bos_token_id"), token("tokenizer.ggml.eos_token_id"), *text, sha256_hex(*text)};
}

std::string render_chat(const ModelChat& chat, const nlohmann::ordered_json& messages,
                        const std::optional<nlohmann::ordered_json>& tools, bool add_generation_prompt) {
  ChatInputs in;
  in.messages = messages;
  in.tools = tools;
  in.add_generation_prompt = add_generation_prompt;
  in.bos_token = chat.bos_token;
  in.eos_token = chat.eos_token;
  return chat.tpl.apply(in);
}

std::vector<int32_t> chat_prompt_ids(const Tokenizer& tok, const std::string& rendered) {
  std::vector<int32_t> ids = tok.encode(rendered, false, true);
  // As llama.cpp does: the vocabulary's bos unless the template already wrote it.
  const int32_t bos = tok.bos_id();
  if (tok.add_bos() && bos >= 0 && (ids.empty() || ids.front() != bos)) ids.insert(ids.begin(), bos);
  return ids;
}

}  // namespace tenx::chat
