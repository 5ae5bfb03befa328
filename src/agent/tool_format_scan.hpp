#pragma once
// Helpers shared by the native tool-call parsers (tool_formats.hpp): byte offsets to located
// errors, bounded JSON values embedded in text, call objects, reasoning blocks.
#include <optional>
#include <string>
#include <string_view>

#include "tenx/agent/tool_formats.hpp"

namespace tenx::agent::detail {

// Deepest nesting of a JSON value accepted inside a model's turn (deeper: an error, not a parse).
inline constexpr int kMaxJsonDepth = 64;

// A ParseError at byte `offset` of `text` (1-based line and byte column).
ParseError error_at(std::string_view text, std::size_t offset, std::string message);
template <typename T>
Parsed<T> fail(std::string_view text, std::size_t offset, std::string message) {
  Parsed<T> p;
  p.error = error_at(text, offset, std::move(message));
  return p;
}

bool is_space(char c);
std::string_view trim(std::string_view s);
// Offset of the first non-space byte at or after `pos` (text.size() if none).
std::size_t skip_spaces(std::string_view text, std::size_t pos);
bool starts_with_at(std::string_view text, std::size_t pos, std::string_view prefix);

// The JSON value starting at text[pos] (after no spaces): its end offset (one past), or an error
// located in `text` (unterminated string/object, nesting deeper than kMaxJsonDepth).
struct JsonSpan {
  std::size_t end = 0;
  std::optional<ParseError> error;
};
JsonSpan json_value_span(std::string_view text, std::size_t pos);
// Parses text[begin, end) as JSON; an error located at the byte nlohmann reports.
Parsed<nlohmann::ordered_json> parse_json_at(std::string_view text, std::size_t begin, std::size_t end);

// {"name": "...", <args_key>: {...} or a JSON string of an object, "id"?: "..."} as a call;
// `args_keys` are tried in order ("arguments", "parameters"). Errors located at `offset`.
Parsed<NativeCall> call_from_object(const nlohmann::ordered_json& j, std::string_view text, std::size_t offset,
                                    std::initializer_list<std::string_view> args_keys);

// The offset of the first byte that does not start a valid UTF-8 sequence (overlong forms and
// surrogates included), npos when `s` is valid. JSON and templates take only valid text.
std::size_t invalid_utf8_at(std::string_view s);

// `text` with each <think>...</think> block blanked to spaces (newlines kept, so offsets and lines
// stay those of the model's text); an unclosed <think> blanks the rest (the model was still
// reasoning). For the formats whose models reason in them (Qwen3, SmolLM3, DeepSeek-R1).
std::string blank_think(std::string_view text);
// Appends `piece` (trimmed) to `content`, a blank line between pieces.
void append_content(std::string& content, std::string_view piece);

// A typed value as JSON (17, 2.5, "age", true).
nlohmann::ordered_json value_to_json(const Value& v);

Parsed<NativeTurn> parse_tenx_turn(std::string_view text);
Parsed<NativeTurn> parse_hermes_turn(std::string_view text);
Parsed<NativeTurn> parse_llama3_turn(std::string_view text);
Parsed<NativeTurn> parse_mistral_turn(std::string_view text);
Parsed<NativeTurn> parse_harmony_turn(std::string_view text);
Parsed<NativeTurn> parse_atem_turn(std::string_view text);

}  // namespace tenx::agent::detail
