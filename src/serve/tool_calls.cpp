// The tool-call seam of /v1/chat/completions (tool_calls.hpp): the model's reply parsed in the
// native format its template renders calls in (agent/tool_formats.hpp), as OpenAI's tool_calls.
#include "tenx/serve/tool_calls.hpp"

#include <string>

#include "tenx/agent/tool_formats.hpp"

namespace tenx::serve {

std::optional<ReplyToolCalls> tool_calls_of(const chat::ModelChat& chat, std::string_view output) {
  const agent::ToolFormat format = agent::detect_tool_format(chat.text);
  // tenx's own <call> syntax stays text: the shipped pair's clients read it as such.
  if (format == agent::ToolFormat::tenx) return std::nullopt;
  const agent::Parsed<agent::NativeTurn> turn = agent::parse_native_turn(format, output);
  // A reply that does not parse in the format is answered as the text the model wrote.
  if (!turn.ok() || turn.value->calls.empty()) return std::nullopt;
  ReplyToolCalls r;
  r.content = turn.value->content;
  for (size_t i = 0; i < turn.value->calls.size(); ++i) {
    const agent::NativeCall& c = turn.value->calls[i];
    r.calls.push_back({{"id", agent::native_call_id(c, static_cast<int>(i))},
                       {"type", "function"},
                       {"function", {{"name", c.name}, {"arguments", c.arguments.dump()}}}});
  }
  return r;
}

}  // namespace tenx::serve
