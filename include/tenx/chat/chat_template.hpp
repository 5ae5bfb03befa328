#pragma once
// Chat templates as Hugging Face's apply_chat_template renders them: the variables it passes
// (messages, tools, add_generation_prompt, bos_token, eos_token) and the globals it adds
// (raise_exception, strftime_now), over tenx's Jinja engine (jinja.hpp). docs/chat-templates.md.
#include <optional>
#include <string>

#include "tenx/chat/jinja.hpp"

namespace tenx::chat {

struct ChatInputs {
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  std::optional<nlohmann::ordered_json> tools;  // absent: the template sees `tools` undefined
  bool add_generation_prompt = true;
  std::string bos_token = "<s>", eos_token = "</s>";  // render.py's defaults for a bare template
  std::string date = "26 Nov 2026";  // the day strftime_now formats, "%d %b %Y"
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();  // more variables
};

class ChatTemplate {
 public:
  // Throws jinja::SyntaxError (NAME:LINE:COLUMN: what).
  static ChatTemplate parse(const std::string& text, const std::string& name);
  // Throws jinja::RenderError; type() "TemplateError" is the template refusing the conversation
  // (raise_exception), message() its own words. tenx::Error for a malformed date.
  std::string apply(const ChatInputs& in, const jinja::Limits& limits = {}) const;
  const std::string& name() const { return tpl_.name(); }

 private:
  jinja::Template tpl_;
};

// strftime_now(fmt) for the day `date` ("26 Nov 2026"); throws tenx::Error if it does not parse.
std::string format_date(const std::string& date, const std::string& fmt);

// A Hugging Face model directory's template and special tokens: chat_template.jinja, else
// tokenizer_config.json's chat_template (a string, or a list of {name, template}: "default");
// bos_token / eos_token from tokenizer_config.json (a string or {"content": ...}).
struct ModelChatTemplate {
  std::string text, source;  // source: the file it came from
  std::string bos_token, eos_token;
};
// Throws tenx::Error naming the file when there is no template or the JSON is malformed.
ModelChatTemplate load_hf_chat_template(const std::string& dir);

}  // namespace tenx::chat
