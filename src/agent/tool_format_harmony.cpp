// gpt-oss harmony: the turn is a run of messages, each [<|start|>assistant]HEADER<|message|>BODY
// ending in <|end|>, <|call|> or <|return|> (the first message's <|start|>assistant is the
// generation prompt's). The header names the channel (<|channel|>analysis|commentary|final) and
// may name a recipient (to=functions.NAME, before or after the channel), then a content type
// (json, <|constrain|>json). A message to functions.NAME is a call with BODY its JSON arguments;
// analysis is reasoning (stripped); final and commentary without a recipient are content.
#include "tool_format_scan.hpp"

namespace tenx::agent::detail {
namespace {

constexpr std::string_view kStart = "<|start|>", kMessage = "<|message|>", kChannel = "<|channel|>";

// The recipient named by `to=` in a header ("" if none): up to a space or '<'.
std::string_view recipient_of(std::string_view header) {
  const std::size_t to = header.find("to=");
  if (to == std::string_view::npos) return {};
  std::size_t end = to + 3;
  while (end < header.size() && !is_space(header[end]) && header[end] != '<') ++end;
  return header.substr(to + 3, end - to - 3);
}

std::string_view channel_of(std::string_view header) {
  const std::size_t c = header.find(kChannel);
  if (c == std::string_view::npos) return {};
  std::size_t end = c + kChannel.size();
  while (end < header.size() && !is_space(header[end]) && header[end] != '<') ++end;
  return header.substr(c + kChannel.size(), end - c - kChannel.size());
}

}  // namespace

Parsed<NativeTurn> parse_harmony_turn(std::string_view text) {
  NativeTurn turn;
  std::string commentary;  // content written on the commentary channel (a preamble)
  bool has_final = false;
  std::size_t pos = 0;
  while (true) {
    pos = skip_spaces(text, pos);
    if (pos >= text.size()) break;
    if (starts_with_at(text, pos, kStart)) {
      pos += kStart.size();
      if (!starts_with_at(text, pos, "assistant"))
        return fail<NativeTurn>(text, pos, "expected 'assistant' after <|start|> in the model's turn");
      pos += 9;
    }
    const std::size_t header_start = pos;
    const std::size_t message = text.find(kMessage, pos);
    const std::size_t next_start = text.find(kStart, pos);
    if (message == std::string_view::npos || (next_start != std::string_view::npos && next_start < message)) {
      if (turn.calls.empty() && turn.content.empty() && text.find("<|", header_start) == std::string_view::npos) {
        append_content(turn.content, text.substr(header_start));  // no harmony markup at all: plain content
        return {std::move(turn), std::nullopt};
      }
      return fail<NativeTurn>(text, header_start, "expected <|message|> after the message header");
    }
    const std::string_view header = text.substr(header_start, message - header_start);
    const std::size_t body_start = message + kMessage.size();
    std::size_t body_end = text.size();
    std::size_t after = text.size();
    for (std::string_view end_tag : {"<|end|>", "<|call|>", "<|return|>", "<|start|>"}) {
      const std::size_t e = text.find(end_tag, body_start);
      if (e != std::string_view::npos && e < body_end) {
        body_end = e;
        after = end_tag == kStart ? e : e + end_tag.size();
      }
    }
    const std::string_view body = text.substr(body_start, body_end - body_start);
    const std::string_view recipient = recipient_of(header);
    const std::string_view channel = channel_of(header);
    if (recipient.substr(0, 10) == "functions.") {
      NativeCall call;
      call.name = std::string(recipient.substr(10));
      if (call.name.empty()) return fail<NativeTurn>(text, header_start, "a call to 'functions.' names no function");
      const std::size_t j0 = skip_spaces(text, body_start);
      if (j0 >= body_end || text[j0] != '{')
        return fail<NativeTurn>(text, j0, "expected the call's JSON arguments after <|message|>");
      const JsonSpan span = json_value_span(text.substr(0, body_end), j0);
      if (span.error) return {std::nullopt, span.error};
      const Parsed<nlohmann::ordered_json> j = parse_json_at(text, j0, span.end);
      if (!j.ok()) return {std::nullopt, j.error};
      if (!trim(text.substr(span.end, body_end - span.end)).empty())
        return fail<NativeTurn>(text, skip_spaces(text, span.end), "unexpected text after the call's JSON arguments");
      call.arguments = *j.value;
      turn.calls.push_back(std::move(call));
    } else if (!recipient.empty() && recipient != "user" && recipient != "assistant") {
      return fail<NativeTurn>(text, header_start, "a message to an unknown recipient '" + std::string(recipient) + "'");
    } else if (channel == "analysis") {
      // reasoning: stripped
    } else if (channel == "commentary") {
      append_content(commentary, body);
    } else {
      append_content(turn.content, body);
      has_final = true;
    }
    pos = after;
  }
  if (!has_final) turn.content = commentary;
  return {std::move(turn), std::nullopt};
}

}  // namespace tenx::agent::detail
