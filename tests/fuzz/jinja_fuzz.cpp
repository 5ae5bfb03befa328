// Chat templates (docs/chat-templates.md): arbitrary bytes parsed as a Jinja template and, when it
// parses, rendered with the Hugging Face variables (a conversation with tools, a tool call and
// content parts) under tight limits, so a template that loops, recurses or grows without end
// stops with a LimitError instead of hanging or exhausting memory. SyntaxError and RenderError
// are the engine's documented answers; anything else escaping is a finding under
// TENX_FUZZ_STRICT=1, and crashes, sanitizer reports, leaks and timeouts always are.
#include <cstdio>
#include <cstdlib>

#include "fuzz_support.hpp"
#include "tenx/chat/chat_template.hpp"

namespace {

const tenx::chat::ChatInputs& inputs() {
  static const tenx::chat::ChatInputs in = [] {
    tenx::chat::ChatInputs c;
    c.messages = nlohmann::ordered_json::parse(R"([
      {"role": "system", "content": "Be brief. «é» 東京"},
      {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is 17 + 25?"}]},
      {"role": "assistant", "content": "", "tool_calls": [{"id": "abcDEF123", "type": "function",
        "function": {"name": "add", "arguments": {"a": 17, "b": 25.5, "flag": true, "none": null}}}]},
      {"role": "tool", "tool_call_id": "abcDEF123", "name": "add", "content": "{\"sum\": 42.5}"},
      {"role": "assistant", "content": "<think>sum</think>42"}])");
    c.tools = nlohmann::ordered_json::parse(R"([{"type": "function", "function": {"name": "add",
      "description": "Adds.", "parameters": {"type": "object", "properties": {"a": {"type": "integer"},
      "b": {"type": "number", "enum": [1, 2.5]}}, "required": ["a"]}}}])");
    return c;
  }();
  return in;
}

tenx::jinja::Limits fuzz_limits() {
  tenx::jinja::Limits l;
  l.max_output = 1u << 20;
  l.max_items = 1u << 14;
  l.max_depth = 100;
  l.max_steps = 200000;
  return l;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  static const tenx::jinja::Limits limits = fuzz_limits();
  tenx_fuzz::guarded([&] {
    try {
      const auto tpl = tenx::chat::ChatTemplate::parse(text, "fuzz.jinja");
      tenx::chat::ChatInputs in = inputs();
      tpl.apply(in, limits);
      in.add_generation_prompt = false;
      in.tools.reset();
      tpl.apply(in, limits);
    } catch (const tenx::jinja::SyntaxError&) {
    } catch (const tenx::jinja::RenderError&) {
    }
  });
  return 0;
}
