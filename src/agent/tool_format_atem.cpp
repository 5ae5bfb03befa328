// Muse Glimmer's ATEM: the turn is a run of messages, each [<|start|>assistant][ to=RECIPIENT]
// <|message|>BODY ending in <|eom|> or <|eot|> (the first message's <|start|>assistant is the
// generation prompt's). to=self is reasoning (stripped); to=user or no recipient is content; a
// message to a tool carries <atem:function_calls> blocks of <atem:invoke name="NAME"> with
// <atem:parameter name="P">VALUE</atem:parameter> each. Values are text as written (the template
// writes strings as they are, numbers and booleans as JSON): typed by the tool's parameters later.
#include <fmt/format.h>

#include "tool_format_scan.hpp"

namespace tenx::agent::detail {
namespace {

constexpr std::string_view kStart = "<|start|>", kMessage = "<|message|>";
constexpr std::string_view kCallsOpen = "<atem:function_calls>", kCallsClose = "</atem:function_calls>";
constexpr std::string_view kInvokeOpen = "<atem:invoke name=\"", kInvokeClose = "</atem:invoke>";
constexpr std::string_view kParamOpen = "<atem:parameter name=\"", kParamClose = "</atem:parameter>";

// The quoted name at text[pos] up to `"` and `>`; pos moves past them. Empty on error.
std::optional<std::string> scan_name(std::string_view text, std::size_t& pos) {
  const std::size_t q = text.find('"', pos);
  if (q == std::string_view::npos || q + 1 >= text.size() || text[q + 1] != '>' || q == pos) return std::nullopt;
  std::string name(text.substr(pos, q - pos));
  if (name.find_first_of("<>\n") != std::string::npos) return std::nullopt;
  pos = q + 2;
  return name;
}

// The <atem:function_calls> block at text[pos] (ending before `end`): its calls; pos moves past it.
std::optional<ParseError> scan_block(std::string_view text, std::size_t& pos, std::size_t end,
                                     std::vector<NativeCall>& calls) {
  pos += kCallsOpen.size();
  while (true) {
    pos = skip_spaces(text, pos);
    if (starts_with_at(text, pos, kCallsClose)) {
      pos += kCallsClose.size();
      return std::nullopt;
    }
    if (pos >= end) return error_at(text, pos, "the message ends before </atem:function_calls>");
    if (!starts_with_at(text, pos, kInvokeOpen))
      return error_at(text, pos, "expected <atem:invoke name=\"...\"> or </atem:function_calls>");
    const std::size_t name_pos = pos + kInvokeOpen.size();
    pos = name_pos;
    std::optional<std::string> name = scan_name(text, pos);
    if (!name) return error_at(text, name_pos, "expected a tool name and '\">' in <atem:invoke name=\"...\">");
    NativeCall call;
    call.name = std::move(*name);
    call.text_arguments = true;
    while (true) {
      pos = skip_spaces(text, pos);
      if (starts_with_at(text, pos, kInvokeClose)) {
        pos += kInvokeClose.size();
        break;
      }
      if (pos >= end) return error_at(text, pos, "the message ends before </atem:invoke>");
      if (!starts_with_at(text, pos, kParamOpen))
        return error_at(text, pos, "expected <atem:parameter name=\"...\"> or </atem:invoke>");
      const std::size_t pname_pos = pos + kParamOpen.size();
      pos = pname_pos;
      std::optional<std::string> pname = scan_name(text, pos);
      if (!pname) return error_at(text, pname_pos, "expected a parameter name and '\">' in <atem:parameter name=\"...\">");
      const std::size_t close = text.find(kParamClose, pos);
      if (close == std::string_view::npos || close > end)
        return error_at(text, pname_pos, fmt::format("parameter '{}' has no </atem:parameter>", *pname));
      if (call.arguments.contains(*pname))
        return error_at(text, pname_pos, fmt::format("duplicate parameter '{}'", *pname));
      call.arguments[*pname] = std::string(text.substr(pos, close - pos));  // spaces are not stripped
      pos = close + kParamClose.size();
    }
    calls.push_back(std::move(call));
  }
}

}  // namespace

Parsed<NativeTurn> parse_atem_turn(std::string_view text) {
  NativeTurn turn;
  std::size_t pos = 0;
  bool first = true;
  while (true) {
    if (!first) pos = skip_spaces(text, pos);
    if (pos >= text.size()) break;
    bool started = false;
    if (starts_with_at(text, pos, kStart)) {
      pos += kStart.size();
      if (!starts_with_at(text, pos, "assistant"))
        return fail<NativeTurn>(text, pos, "expected 'assistant' after <|start|> in the model's turn");
      pos += 9;
      started = true;
    }
    std::string_view recipient;
    const std::size_t header_start = pos;
    if (starts_with_at(text, pos, " to=")) {
      const std::size_t message = text.find(kMessage, pos);
      if (message == std::string_view::npos) return fail<NativeTurn>(text, pos, "expected <|message|> after the recipient");
      recipient = trim(text.substr(pos + 4, message - pos - 4));
      pos = message + kMessage.size();
    } else if (starts_with_at(text, pos, kMessage)) {
      pos += kMessage.size();
    } else if (started || !first) {
      return fail<NativeTurn>(text, header_start, "expected ' to=RECIPIENT<|message|>' or '<|message|>'");
    }
    first = false;
    std::size_t end = text.size(), after = text.size();
    for (std::string_view tag : {"<|eom|>", "<|eot|>", "<|start|>"}) {
      const std::size_t e = text.find(tag, pos);
      if (e != std::string_view::npos && e < end) {
        end = e;
        after = tag == kStart ? e : e + tag.size();
      }
    }
    if (recipient == "self") {
      pos = after;
      continue;
    }
    // The body: content with any <atem:function_calls> blocks (a model may call without a header).
    std::size_t body = pos;
    while (true) {
      const std::size_t block = text.find(kCallsOpen, body);
      if (block == std::string_view::npos || block >= end) {
        append_content(turn.content, text.substr(body, end - body));
        break;
      }
      append_content(turn.content, text.substr(body, block - body));
      body = block;
      if (std::optional<ParseError> e = scan_block(text, body, end, turn.calls)) return {std::nullopt, std::move(e)};
    }
    pos = after;
  }
  return {std::move(turn), std::nullopt};
}

}  // namespace tenx::agent::detail
