// Mistral calls: [TOOL_CALLS] then a JSON array of {"name", "arguments", "id"} (Mistral Nemo,
// Mistral 7B v0.3), or the newer [TOOL_CALLS]name[ARGS]{...} per call. Text before the first
// [TOOL_CALLS] is content.
#include "tool_format_scan.hpp"

namespace tenx::agent::detail {

Parsed<NativeTurn> parse_mistral_turn(std::string_view original) {
  constexpr std::string_view kCalls = "[TOOL_CALLS]", kArgs = "[ARGS]", kCallId = "[CALL_ID]";
  const std::string blanked = blank_think(original);
  const std::string_view text = blanked;
  NativeTurn turn;
  std::size_t mark = text.find(kCalls);
  append_content(turn.content, text.substr(0, mark));
  while (mark != std::string_view::npos) {
    std::size_t pos = skip_spaces(text, mark + kCalls.size());
    if (pos < text.size() && text[pos] == '[') {
      const JsonSpan span = json_value_span(text, pos);
      if (span.error) return {std::nullopt, span.error};
      const Parsed<nlohmann::ordered_json> j = parse_json_at(text, pos, span.end);
      if (!j.ok()) return {std::nullopt, j.error};
      if (!j.value->is_array() || j.value->empty())
        return fail<NativeTurn>(original, pos, "[TOOL_CALLS] must be followed by a non-empty JSON array of calls");
      for (const auto& element : *j.value) {
        Parsed<NativeCall> call = call_from_object(element, original, pos, {"arguments", "parameters"});
        if (!call.ok()) return {std::nullopt, call.error};
        turn.calls.push_back(std::move(*call.value));
      }
      pos = span.end;
    } else {
      // name[ARGS]{...} or name[CALL_ID]id[ARGS]{...}
      const std::size_t name_start = pos;
      while (pos < text.size() && text[pos] != '[' && !is_space(text[pos])) ++pos;
      NativeCall call;
      call.name = std::string(text.substr(name_start, pos - name_start));
      if (call.name.empty()) return fail<NativeTurn>(original, name_start, "expected a JSON array or a tool name after [TOOL_CALLS]");
      if (starts_with_at(text, pos, kCallId)) {
        const std::size_t id_start = pos + kCallId.size();
        pos = text.find('[', id_start);
        if (pos == std::string_view::npos) return fail<NativeTurn>(original, id_start, "expected [ARGS] after the call id");
        call.id = std::string(text.substr(id_start, pos - id_start));
      }
      if (!starts_with_at(text, pos, kArgs)) return fail<NativeTurn>(original, pos, "expected [ARGS] after the tool name");
      pos = skip_spaces(text, pos + kArgs.size());
      if (pos >= text.size() || text[pos] != '{') return fail<NativeTurn>(original, pos, "expected a JSON object after [ARGS]");
      const JsonSpan span = json_value_span(text, pos);
      if (span.error) return {std::nullopt, span.error};
      const Parsed<nlohmann::ordered_json> j = parse_json_at(text, pos, span.end);
      if (!j.ok()) return {std::nullopt, j.error};
      call.arguments = *j.value;
      turn.calls.push_back(std::move(call));
      pos = span.end;
    }
    mark = text.find(kCalls, pos);
    const std::string_view rest = trim(text.substr(pos, mark == std::string_view::npos ? std::string_view::npos : mark - pos));
    if (!rest.empty() && rest != "</s>")
      return fail<NativeTurn>(original, skip_spaces(text, pos), "unexpected text after the tool calls");
  }
  return {std::move(turn), std::nullopt};
}

}  // namespace tenx::agent::detail
