// Helpers shared by the native tool-call parsers (tool_format_scan.hpp).
#include "tool_format_scan.hpp"

#include <fmt/format.h>

#include <cstdint>

namespace tenx::agent::detail {

ParseError error_at(std::string_view text, std::size_t offset, std::string message) {
  ParseError e;
  offset = std::min(offset, text.size());
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++e.line;
      e.column = 1;
    } else {
      ++e.column;
    }
  }
  e.message = std::move(message);
  return e;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view s) {
  std::size_t a = 0, b = s.size();
  while (a < b && is_space(s[a])) ++a;
  while (b > a && is_space(s[b - 1])) --b;
  return s.substr(a, b - a);
}

std::size_t skip_spaces(std::string_view text, std::size_t pos) {
  while (pos < text.size() && is_space(text[pos])) ++pos;
  return pos;
}

bool starts_with_at(std::string_view text, std::size_t pos, std::string_view prefix) {
  return pos <= text.size() && text.substr(pos, prefix.size()) == prefix;
}

JsonSpan json_value_span(std::string_view text, std::size_t pos) {
  JsonSpan out;
  if (pos >= text.size()) {
    out.error = error_at(text, pos, "expected a JSON value, found the end of the text");
    return out;
  }
  const char first = text[pos];
  if (first != '{' && first != '[') {
    // A scalar: up to the next structural byte or space (nlohmann judges it afterwards).
    if (first == '"') {
      std::size_t i = pos + 1;
      while (i < text.size() && text[i] != '"') i += text[i] == '\\' ? 2 : 1;
      if (i >= text.size()) {
        out.error = error_at(text, pos, "unterminated JSON string");
        return out;
      }
      out.end = i + 1;
      return out;
    }
    std::size_t i = pos;
    while (i < text.size() && !is_space(text[i]) && text[i] != ',' && text[i] != '}' && text[i] != ']' &&
           text[i] != '<')
      ++i;
    out.end = i;
    return out;
  }
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = pos; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth) {
        out.error = error_at(text, i, fmt::format("JSON nested deeper than {} levels", kMaxJsonDepth));
        return out;
      }
    } else if (c == '}' || c == ']') {
      if (--depth == 0) {
        out.end = i + 1;
        return out;
      }
    }
  }
  out.error = error_at(text, pos, in_string ? "unterminated JSON string (the text ends inside it)"
                                            : "unterminated JSON value (the text ends before its closing bracket)");
  return out;
}

Parsed<nlohmann::ordered_json> parse_json_at(std::string_view text, std::size_t begin, std::size_t end) {
  Parsed<nlohmann::ordered_json> out;
  const std::string_view piece = text.substr(begin, end - begin);
  try {
    out.value = nlohmann::ordered_json::parse(piece.begin(), piece.end());
  } catch (const nlohmann::json::out_of_range& e) {
    // A number beyond double's range (1e999): nlohmann says where only in words.
    std::string what = e.what();
    const std::size_t colon = what.find("] ");
    out.error = error_at(text, begin, "malformed JSON: " + (colon == std::string::npos ? what : what.substr(colon + 2)));
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is 1-based within the piece (the byte after the last one read).
    const std::size_t at = begin + (e.byte > 0 ? std::min<std::size_t>(e.byte - 1, piece.size()) : 0);
    std::string what = e.what();
    const std::size_t colon = what.rfind(": ");  // nlohmann's own wording after its location
    out.error = error_at(text, at, "malformed JSON: " + (colon == std::string::npos ? what : what.substr(colon + 2)));
  }
  return out;
}

Parsed<NativeCall> call_from_object(const nlohmann::ordered_json& j, std::string_view text, std::size_t offset,
                                    std::initializer_list<std::string_view> args_keys) {
  if (!j.is_object()) return fail<NativeCall>(text, offset, "a tool call must be a JSON object");
  NativeCall call;
  auto name = j.find("name");
  if (name == j.end() || !name->is_string() || name->get_ref<const std::string&>().empty())
    return fail<NativeCall>(text, offset, "a tool call needs a non-empty string \"name\"");
  call.name = name->get<std::string>();
  bool found = false;
  for (std::string_view key : args_keys) {
    auto a = j.find(std::string(key));
    if (a == j.end()) continue;
    found = true;
    if (a->is_string()) {  // OpenAI's wire shape: the arguments as a JSON text
      const std::string& s = a->get_ref<const std::string&>();
      const Parsed<nlohmann::ordered_json> inner = parse_json_at(s, 0, s.size());
      if (!inner.ok() || !inner.value->is_object())
        return fail<NativeCall>(text, offset,
                                fmt::format("the \"{}\" of '{}' is a string that is not a JSON object", key, call.name));
      call.arguments = *inner.value;
    } else if (a->is_object()) {
      call.arguments = *a;
    } else {
      return fail<NativeCall>(text, offset, fmt::format("the \"{}\" of '{}' must be an object", key, call.name));
    }
    break;
  }
  if (!found) call.arguments = nlohmann::ordered_json::object();  // a call without arguments
  auto id = j.find("id");
  if (id != j.end() && id->is_string()) call.id = id->get<std::string>();
  Parsed<NativeCall> out;
  out.value = std::move(call);
  return out;
}

std::size_t invalid_utf8_at(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07;
    } else {
      return i;
    }
    for (std::size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return i;
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (d & 0x3F);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8 either.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return i;
    i += n + 1;
  }
  return std::string_view::npos;
}

std::string blank_think(std::string_view text) {
  std::string out(text);
  std::size_t pos = 0;
  while (true) {
    const std::size_t open = out.find("<think>", pos);
    if (open == std::string::npos) break;
    std::size_t close = out.find("</think>", open);
    const std::size_t end = close == std::string::npos ? out.size() : close + 8;
    for (std::size_t i = open; i < end; ++i)
      if (out[i] != '\n') out[i] = ' ';
    pos = end;
  }
  // A model whose template opened the block in the generation prompt writes only the close.
  const std::size_t lone_close = out.find("</think>");
  if (lone_close != std::string::npos && out.rfind("<think>", lone_close) == std::string::npos) {
    for (std::size_t i = 0; i < lone_close + 8; ++i)
      if (out[i] != '\n') out[i] = ' ';
  }
  return out;
}

void append_content(std::string& content, std::string_view piece) {
  piece = trim(piece);
  if (piece.empty()) return;
  if (!content.empty()) content += "\n\n";
  content += piece;
}

}  // namespace tenx::agent::detail
