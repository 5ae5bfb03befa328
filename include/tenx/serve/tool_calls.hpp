#pragma once
// The one seam where /v1/chat/completions finds tool calls in a model's reply (docs/serve.md).
#include <optional>
#include <string_view>

#include "tenx/chat/model_chat.hpp"
#include "tenx/serve/response.hpp"

namespace tenx::serve {

// The calls in `output` (the model's reply text) in the model's native format (detected from its
// template, agent/tool_formats.hpp), as OpenAI's tool_calls {"id","type":"function","function":
// {"name","arguments": a JSON string}} with the text outside them as content; nullopt when the
// template has no native format (tenx's <call> lines stay text), the reply has no calls or does
// not parse in the format (it is then answered as plain content).
std::optional<ReplyToolCalls> tool_calls_of(const chat::ModelChat& chat, std::string_view output);

}  // namespace tenx::serve
