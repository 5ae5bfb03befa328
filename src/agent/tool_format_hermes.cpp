// Hermes / Qwen calls: each call a JSON object {"name", "arguments"} between <tool_call> and
// </tool_call> (Hermes 3, Qwen2.5, Qwen3, Granite 4, SmolLM3). Qwen3 reasons in <think> first.
#include "tool_format_scan.hpp"

namespace tenx::agent::detail {

Parsed<NativeTurn> parse_hermes_turn(std::string_view original) {
  constexpr std::string_view kOpen = "<tool_call>", kClose = "</tool_call>";
  const std::string blanked = blank_think(original);
  const std::string_view text = blanked;
  NativeTurn turn;
  std::size_t pos = 0;
  while (true) {
    const std::size_t open = text.find(kOpen, pos);
    append_content(turn.content, text.substr(pos, open == std::string_view::npos ? std::string_view::npos : open - pos));
    if (open == std::string_view::npos) break;
    const std::size_t body = skip_spaces(text, open + kOpen.size());
    if (body >= text.size() || text[body] != '{')
      return fail<NativeTurn>(original, body, "expected a JSON object after <tool_call>");
    const JsonSpan span = json_value_span(text, body);
    if (span.error) return fail<NativeTurn>(original, body, span.error->message);
    const std::size_t after = skip_spaces(text, span.end);
    if (!starts_with_at(text, after, kClose))
      return fail<NativeTurn>(original, after, after >= text.size() ? "the text ends before </tool_call>"
                                                                      : "expected </tool_call> after the call's JSON");
    const Parsed<nlohmann::ordered_json> j = parse_json_at(text, body, span.end);
    if (!j.ok()) return {std::nullopt, j.error};
    Parsed<NativeCall> call = call_from_object(*j.value, original, body, {"arguments", "parameters"});
    if (!call.ok()) return {std::nullopt, call.error};
    turn.calls.push_back(std::move(*call.value));
    pos = after + kClose.size();
  }
  return {std::move(turn), std::nullopt};
}

}  // namespace tenx::agent::detail
