// tenx's own syntax (tool_call.hpp) as a native turn: call lines become calls with JSON
// arguments, an answer line the content.
#include "tool_format_scan.hpp"

namespace tenx::agent::detail {

nlohmann::ordered_json value_to_json(const Value& v) {
  return std::visit([](const auto& x) { return nlohmann::ordered_json(x); }, v);
}

Parsed<NativeTurn> parse_tenx_turn(std::string_view text) {
  Parsed<Turn> t = parse_turn(text);
  if (!t.ok()) return {std::nullopt, std::move(t.error)};
  NativeTurn turn;
  if (t.value->answer) turn.content = *t.value->answer;
  for (const ToolCall& c : t.value->calls) {
    NativeCall call;
    call.name = c.name;
    for (const Argument& a : c.args) call.arguments[a.name] = value_to_json(a.value);
    turn.calls.push_back(std::move(call));
  }
  return {std::move(turn), std::nullopt};
}

}  // namespace tenx::agent::detail
