#pragma once
// A model's own chat template as a server or a runner uses it (docs/protocols.md, docs/serve.md):
// the template with the texts of the model's bos/eos tokens (what Hugging Face passes as
// bos_token / eos_token), the rendering, and the rendered text as token ids the way llama.cpp
// tokenizes a chat prompt (special tokens parsed, the vocabulary's bos unless the template wrote it).
// On the model layer (Metadata, Tokenizer) so that `tenx serve` need not include eval.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tenx/chat/chat_template.hpp"
#include "tenx/model/metadata.hpp"
#include "tenx/model/tokenizer.hpp"

namespace tenx::chat {

struct ModelChat {
  ChatTemplate tpl;
  std::string bos_token, eos_token;
  std::string text;    // the template's source
  std::string sha256;  // of `text`
};

// tokenizer.chat_template, else (a Hugging Face folder `subject`) its chat_template.jinja with
// tokenizer_config.json's bos/eos; nullopt when the model has none. Throws jinja::SyntaxError
// naming `subject` when the template does not parse.
std::optional<ModelChat> model_chat_of(const Metadata& meta, const std::string& subject);

// The conversation rendered with the model's bos/eos texts and strftime_now pinned to
// ChatInputs::date (reproducible). Throws jinja::RenderError (a refusal: type "TemplateError").
std::string render_chat(const ModelChat& chat, const nlohmann::ordered_json& messages,
                        const std::optional<nlohmann::ordered_json>& tools = std::nullopt,
                        bool add_generation_prompt = true);

// The ids of a rendered conversation: special tokens parsed (`<|im_start|>` is one token), the
// vocabulary's bos prepended when it adds one and the template did not already write it.
std::vector<int32_t> chat_prompt_ids(const Tokenizer& tok, const std::string& rendered);

}  // namespace tenx::chat
