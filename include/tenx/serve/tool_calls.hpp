#pragma once
// The one seam where /v1/chat/completions finds tool calls in a model's reply (docs/serve.md).
#include <optional>
#include <string_view>

#include "tenx/chat/model_chat.hpp"
#include "tenx/serve/response.hpp"

namespace tenx::serve {

// The calls in `output` (the model's reply text) in the model's native format, as OpenAI's
// tool_calls; nullopt when the reply has none (it is then answered as plain content).
// TODO(issue 15 §2, merge of branch toolfmt): parse with agent::detect_tool_format(chat.text) and
// agent::parse_native_turn(format, output) from include/tenx/agent/tool_formats.hpp, turning each
// NativeTurn call {name, arguments, id} into {"id","type":"function","function":{"name",
// "arguments": arguments.dump()}} and NativeTurn::content into ReplyToolCalls::content. Until then
// no reply carries tool_calls.
std::optional<ReplyToolCalls> tool_calls_of(const chat::ModelChat& chat, std::string_view output);

}  // namespace tenx::serve
