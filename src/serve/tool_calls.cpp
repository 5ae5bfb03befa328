// The tool-call seam of /v1/chat/completions (tool_calls.hpp): no native parser on this branch yet.
#include "tenx/serve/tool_calls.hpp"

namespace tenx::serve {

std::optional<ReplyToolCalls> tool_calls_of(const chat::ModelChat& /*chat*/, std::string_view /*output*/) {
  return std::nullopt;  // TODO(toolfmt): agent::parse_native_turn, see the header
}

}  // namespace tenx::serve
