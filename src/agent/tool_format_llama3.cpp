// Llama 3.x JSON calls: the whole turn is one JSON object {"name", "parameters"} (the templates of
// Llama 3.1 and 3.2 render it so), optionally after <|python_tag|>; several objects separated by
// ';' or whitespace are parallel calls. A turn that does not start with an object is content.
// Built-in tools (<|python_tag|>brave_search.call(...)) are not tenx tools: an error.
#include "tool_format_scan.hpp"

namespace tenx::agent::detail {

Parsed<NativeTurn> parse_llama3_turn(std::string_view original) {
  constexpr std::string_view kPythonTag = "<|python_tag|>";
  const std::string blanked = blank_think(original);
  const std::string_view text = blanked;
  NativeTurn turn;
  std::size_t pos = skip_spaces(text, 0);
  std::size_t tag = text.find(kPythonTag, pos);
  if (tag != std::string_view::npos && text.find('{', pos) < tag) tag = std::string_view::npos;  // inside the JSON
  const bool tagged = tag != std::string_view::npos;
  if (tagged) {
    append_content(turn.content, text.substr(pos, tag - pos));
    pos = skip_spaces(text, tag + kPythonTag.size());
    if (pos >= text.size() || text[pos] != '{')
      return fail<NativeTurn>(original, pos, "expected a JSON call object after <|python_tag|> (built-in tools are not supported)");
  } else if (pos >= text.size() || text[pos] != '{') {
    append_content(turn.content, text);
    return {std::move(turn), std::nullopt};
  }
  while (pos < text.size()) {
    if (text[pos] != '{') {
      if (turn.calls.empty() && !tagged) break;
      return fail<NativeTurn>(original, pos, "expected another JSON call object or the end of the turn");
    }
    const JsonSpan span = json_value_span(text, pos);
    if (span.error) return {std::nullopt, span.error};
    const Parsed<nlohmann::ordered_json> j = parse_json_at(text, pos, span.end);
    if (!j.ok()) return {std::nullopt, j.error};
    if (!tagged && turn.calls.empty() && (!j.value->is_object() || !j.value->contains("name"))) {
      append_content(turn.content, text);  // a JSON answer, not a call
      return {std::move(turn), std::nullopt};
    }
    Parsed<NativeCall> call = call_from_object(*j.value, original, pos, {"parameters", "arguments"});
    if (!call.ok()) return {std::nullopt, call.error};
    turn.calls.push_back(std::move(*call.value));
    pos = skip_spaces(text, span.end);
    if (pos < text.size() && text[pos] == ';') pos = skip_spaces(text, pos + 1);
  }
  return {std::move(turn), std::nullopt};
}

}  // namespace tenx::agent::detail
