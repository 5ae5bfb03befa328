#pragma once
// Shared by the chat tests: where the reference templates live (../shared, outside the repo:
// their licences are the models'), file reading, and conversations.json -> ChatInputs as
// render.py builds its variables.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "tenx/chat/chat_template.hpp"

namespace tenx::test {

inline std::filesystem::path reference_dir() {
  return std::filesystem::path(TENX_SHARED_DIR) / "reference" / "chat-templates";
}

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// render.py: bos/eos from the conversation's "extra" or "<s>" / "</s>", add_generation_prompt
// default true, "tools" only when given, other "extra" keys as variables.
inline chat::ChatInputs inputs_of(const nlohmann::ordered_json& conv) {
  chat::ChatInputs in;
  in.messages = conv.at("messages");
  if (conv.contains("tools")) in.tools = conv["tools"];
  in.add_generation_prompt = conv.value("add_generation_prompt", true);
  if (conv.contains("extra")) {
    for (const auto& [k, v] : conv["extra"].items()) {
      if (k == "bos_token") in.bos_token = v.get<std::string>();
      else if (k == "eos_token") in.eos_token = v.get<std::string>();
      else in.extra[k] = v;
    }
  }
  return in;
}

// What render.py prints for one conversation: {"text": ...} or {"error": "Type: message"}.
inline nlohmann::ordered_json render_like_render_py(const chat::ChatTemplate& t, const nlohmann::ordered_json& conv) {
  nlohmann::ordered_json out;
  out["name"] = conv.value("name", "");
  try {
    out["text"] = t.apply(inputs_of(conv));
  } catch (const jinja::RenderError& e) {
    out["error"] = e.what();
  }
  return out;
}

}  // namespace tenx::test
