// Strict parser and printer for tenx's tool-call syntax (grammar: docs/tool-calls.md).
// A hand-written scanner over bytes: every branch checks bounds, so arbitrary input yields a
// located ParseError instead of a crash.
#include "tenx/agent/tool_call.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "tenx/util/error.hpp"

namespace tenx::agent {
namespace {

constexpr std::string_view kCallOpen = "<call>";
constexpr std::string_view kCallClose = "</call>";
constexpr std::string_view kResultOpen = "<result>";
constexpr std::string_view kResultClose = "</result>";
constexpr std::string_view kAnswerOpen = "<answer>";
constexpr std::string_view kAnswerClose = "</answer>";
constexpr std::size_t kMaxNameLength = 64;

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string describe_byte(std::string_view s, std::size_t pos) {
  if (pos >= s.size()) return "end of line";
  unsigned char c = static_cast<unsigned char>(s[pos]);
  if (c >= 0x20 && c < 0x7f) return fmt::format("'{}'", static_cast<char>(c));
  return fmt::format("byte 0x{:02x}", c);
}

// Scans the body of one call: `name(arg=value, ...)`. Positions are 0-based offsets into
// `s`; `column_base` maps them to the 1-based column of the full line.
class CallScanner {
 public:
  CallScanner(std::string_view s, std::size_t line, std::size_t column_base)
      : s_(s), line_(line), column_base_(column_base) {}

  Parsed<ToolCall> scan() {
    ToolCall call;
    skip_spaces();
    if (!scan_name(call.name, "tool name")) return fail();
    skip_spaces();
    if (!expect('(')) return fail();
    skip_spaces();
    if (peek() == ')') {
      ++pos_;
    } else {
      while (true) {
        Argument arg;
        std::size_t arg_pos = pos_;
        if (!scan_name(arg.name, "argument name")) return fail();
        if (call.find(arg.name) != nullptr) {
          set_error(arg_pos, fmt::format("duplicate argument '{}'", arg.name));
          return fail();
        }
        skip_spaces();
        if (!expect('=')) return fail();
        skip_spaces();
        if (!scan_value(arg.value)) return fail();
        call.args.push_back(std::move(arg));
        skip_spaces();
        if (peek() == ',') {
          ++pos_;
          skip_spaces();
          continue;
        }
        if (peek() == ')') {
          ++pos_;
          break;
        }
        set_error(pos_, fmt::format("expected ',' or ')' after an argument, found {}",
                                    describe_byte(s_, pos_)));
        return fail();
      }
    }
    skip_spaces();
    if (pos_ != s_.size()) {
      set_error(pos_, fmt::format("unexpected {} after the closing ')'", describe_byte(s_, pos_)));
      return fail();
    }
    Parsed<ToolCall> out;
    out.value = std::move(call);
    return out;
  }

 private:
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_spaces() {
    while (pos_ < s_.size() && s_[pos_] == ' ') ++pos_;
  }
  void set_error(std::size_t pos, std::string message) {
    if (!error_) error_ = ParseError{line_, column_base_ + pos, std::move(message)};
  }
  Parsed<ToolCall> fail() {
    Parsed<ToolCall> out;
    out.error = error_.value_or(ParseError{line_, column_base_ + pos_, "invalid call"});
    return out;
  }
  bool expect(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    set_error(pos_, fmt::format("expected '{}', found {}", c, describe_byte(s_, pos_)));
    return false;
  }
  bool scan_name(std::string& out, const char* what) {
    if (pos_ >= s_.size() || !is_name_start(s_[pos_])) {
      set_error(pos_, fmt::format("expected a {} ([a-z_][a-z0-9_]*), found {}", what,
                                  describe_byte(s_, pos_)));
      return false;
    }
    std::size_t start = pos_;
    while (pos_ < s_.size() && is_name_char(s_[pos_])) ++pos_;
    if (pos_ - start > kMaxNameLength) {
      set_error(start, fmt::format("{} longer than {} characters", what, kMaxNameLength));
      return false;
    }
    out.assign(s_.substr(start, pos_ - start));
    return true;
  }
  bool scan_value(Value& out) {
    char c = peek();
    if (c == '"') return scan_string(out);
    if (c == '-' || is_digit(c)) return scan_number(out);
    if (s_.substr(pos_, 4) == "true" && !is_name_char(pos_ + 4 < s_.size() ? s_[pos_ + 4] : ' ')) {
      pos_ += 4;
      out = true;
      return true;
    }
    if (s_.substr(pos_, 5) == "false" && !is_name_char(pos_ + 5 < s_.size() ? s_[pos_ + 5] : ' ')) {
      pos_ += 5;
      out = false;
      return true;
    }
    set_error(pos_, fmt::format("expected a value (integer, number, \"string\", true or false), "
                                "found {}", describe_byte(s_, pos_)));
    return false;
  }
  bool scan_string(Value& out) {
    std::size_t start = pos_;
    ++pos_;  // opening quote
    std::string text;
    while (true) {
      if (pos_ >= s_.size()) {
        set_error(start, "unterminated string");
        return false;
      }
      unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        break;
      }
      if (c == '\\') {
        char next = pos_ + 1 < s_.size() ? s_[pos_ + 1] : '\0';
        if (next != '"' && next != '\\') {
          set_error(pos_, "only \\\" and \\\\ escapes are allowed in strings");
          return false;
        }
        text.push_back(next);
        pos_ += 2;
        continue;
      }
      if (c < 0x20 || c == 0x7f) {
        set_error(pos_, fmt::format("control {} inside a string", describe_byte(s_, pos_)));
        return false;
      }
      text.push_back(static_cast<char>(c));
      ++pos_;
    }
    out = std::move(text);
    return true;
  }
  bool scan_number(Value& out) {
    std::size_t start = pos_;
    if (peek() == '-') ++pos_;
    std::size_t int_start = pos_;
    while (pos_ < s_.size() && is_digit(s_[pos_])) ++pos_;
    if (pos_ == int_start) {
      set_error(pos_, "expected digits after '-'");
      return false;
    }
    bool fractional = false;
    if (peek() == '.') {
      ++pos_;
      std::size_t frac_start = pos_;
      while (pos_ < s_.size() && is_digit(s_[pos_])) ++pos_;
      if (pos_ == frac_start) {
        set_error(pos_, "expected digits after '.'");
        return false;
      }
      fractional = true;
    }
    if (pos_ < s_.size() && (is_name_char(s_[pos_]) || s_[pos_] == '.')) {
      set_error(pos_, fmt::format("unexpected {} in a number (no exponents or suffixes)",
                                  describe_byte(s_, pos_)));
      return false;
    }
    std::string_view text = s_.substr(start, pos_ - start);
    if (fractional) {
      // std::from_chars for double is available in libstdc++ 11+.
      double d = 0;
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
      if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(d)) {
        set_error(start, "number out of range");
        return false;
      }
      out = d;
    } else {
      std::int64_t i = 0;
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
      if (ec != std::errc() || ptr != text.data() + text.size()) {
        set_error(start, "integer out of the 64-bit range");
        return false;
      }
      out = i;
    }
    return true;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  std::size_t line_;
  std::size_t column_base_;
  std::optional<ParseError> error_;
};

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}
bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// Text inside <result> and <answer>: no '<', no control bytes (a newline would end the line).
std::optional<std::size_t> find_bad_text_byte(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '<' || c < 0x20 || c == 0x7f) return i;
  }
  return std::nullopt;
}

// Splits on '\n', remembering 1-based line numbers; a trailing '\r' is not stripped
// (the syntax is '\n'-only, and '\r' is reported as a stray byte).
std::vector<std::pair<std::size_t, std::string_view>> split_lines(std::string_view text) {
  std::vector<std::pair<std::size_t, std::string_view>> lines;
  std::size_t line = 1;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '\n') {
      lines.emplace_back(line, text.substr(start, i - start));
      start = i + 1;
      ++line;
    }
  }
  return lines;
}

template <typename T>
Parsed<T> error_at(std::size_t line, std::size_t column, std::string message) {
  Parsed<T> out;
  out.error = ParseError{line, column, std::move(message)};
  return out;
}

// Parses `<tag>text</tag>` lines for results and answers.
Parsed<std::string> parse_tagged_text(std::string_view line, std::size_t line_number,
                                      std::string_view open, std::string_view close) {
  if (!starts_with(line, open))
    return error_at<std::string>(line_number, 1, fmt::format("expected '{}'", open));
  if (!ends_with(line, close) || line.size() < open.size() + close.size())
    return error_at<std::string>(line_number, line.size() + 1,
                                 fmt::format("expected the line to end with '{}'", close));
  std::string_view inner = line.substr(open.size(), line.size() - open.size() - close.size());
  if (auto bad = find_bad_text_byte(inner))
    return error_at<std::string>(line_number, open.size() + *bad + 1,
                                 fmt::format("{} is not allowed inside {}",
                                             describe_byte(inner, *bad), open));
  Parsed<std::string> out;
  out.value = std::string(trim_spaces(inner));
  return out;
}

}  // namespace

ValueType type_of(const Value& v) {
  switch (v.index()) {
    case 0: return ValueType::Integer;
    case 1: return ValueType::Number;
    case 2: return ValueType::String;
    default: return ValueType::Boolean;
  }
}

const char* type_name(ValueType t) {
  switch (t) {
    case ValueType::Integer: return "integer";
    case ValueType::Number: return "number";
    case ValueType::String: return "string";
    case ValueType::Boolean: return "boolean";
  }
  return "unknown";
}

std::optional<ValueType> parse_type_name(std::string_view name) {
  if (name == "integer") return ValueType::Integer;
  if (name == "number") return ValueType::Number;
  if (name == "string") return ValueType::String;
  if (name == "boolean") return ValueType::Boolean;
  return std::nullopt;
}

namespace {
// Fixed notation (the call grammar has no exponents) of the shortest decimal that reads back as
// `d`: fmt's `{}` gives those digits, maybe as d.ddde±X, which is expanded here digit for digit.
// Every finite double, subnormals and 1e308 included, thus prints to a literal that from_chars
// turns into the same double (docs/tool-calls.md, "Numbers").
std::string format_call_number(double d) {
  std::string shortest = fmt::format("{}", d);
  const std::size_t e = shortest.find_first_of("eE");
  std::string out;
  if (e == std::string::npos) {
    out = shortest;
  } else {
    std::string_view mantissa(shortest.data(), e);
    const int exponent = std::stoi(shortest.substr(e + 1));
    if (!mantissa.empty() && mantissa.front() == '-') {
      out = "-";
      mantissa.remove_prefix(1);
    }
    std::string digits;
    for (char c : mantissa)
      if (c != '.') digits.push_back(c);
    // The mantissa has one digit before its point: that many digits precede the fixed point.
    const long point = static_cast<long>(exponent) + 1;
    const long n = static_cast<long>(digits.size());
    if (point <= 0) {
      out += "0." + std::string(static_cast<std::size_t>(-point), '0') + digits;
    } else if (point >= n) {
      out += digits + std::string(static_cast<std::size_t>(point - n), '0');
    } else {
      out += digits.substr(0, static_cast<std::size_t>(point)) + "." +
             digits.substr(static_cast<std::size_t>(point));
    }
  }
  if (out.find('.') == std::string::npos) out += ".0";  // a number, never an integer
  return out;
}
}  // namespace

std::string format_value(const Value& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) {
    if (!std::isfinite(*d)) return "nan";
    return format_call_number(*d);
  }
  if (const auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  const auto& s = std::get<std::string>(v);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

bool values_equal(const Value& a, const Value& b) {
  auto as_double = [](const Value& v) -> std::optional<double> {
    if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
    if (const auto* d = std::get_if<double>(&v)) return *d;
    return std::nullopt;
  };
  auto da = as_double(a);
  auto db = as_double(b);
  if (da && db) return *da == *db;
  return a == b;
}

const Argument* ToolCall::find(std::string_view arg_name) const {
  for (const auto& a : args)
    if (a.name == arg_name) return &a;
  return nullptr;
}

std::string format_call(const ToolCall& call) {
  std::string out = std::string(kCallOpen) + call.name + "(";
  for (std::size_t i = 0; i < call.args.size(); ++i) {
    if (i > 0) out += ", ";
    out += call.args[i].name + "=" + format_value(call.args[i].value);
  }
  out += ")";
  out += kCallClose;
  return out;
}

nlohmann::ordered_json call_to_json(const ToolCall& call) {
  nlohmann::ordered_json args = nlohmann::ordered_json::object();
  for (const auto& a : call.args) {
    std::visit([&](const auto& x) { args[a.name] = x; }, a.value);
  }
  return nlohmann::ordered_json{{"name", call.name}, {"args", args}};
}

ToolCall call_from_json(const nlohmann::json& j, const std::string& subject) {
  if (!j.is_object() || !j.contains("name") || !j["name"].is_string())
    throw Error(subject, "a call must be an object with a string \"name\"");
  ToolCall call;
  call.name = j["name"].get<std::string>();
  if (j.contains("args")) {
    const auto& args = j["args"];
    if (!args.is_object()) throw Error(subject + ".args", "must be an object");
    for (const auto& [key, v] : args.items()) {
      Argument a;
      a.name = key;
      if (v.is_boolean()) a.value = v.get<bool>();
      else if (v.is_number_integer()) a.value = v.get<std::int64_t>();
      else if (v.is_number()) a.value = v.get<double>();
      else if (v.is_string()) a.value = v.get<std::string>();
      else throw Error(subject + ".args." + key, "must be an integer, number, string or boolean");
      call.args.push_back(std::move(a));
    }
  }
  return call;
}

std::string ParseError::to_string() const {
  return fmt::format("line {}, column {}: {}", line, column, message);
}

Parsed<ToolCall> parse_call_line(std::string_view line, std::size_t line_number,
                                 bool require_tags) {
  // Refused before scanning: no call needs more, and a runaway generation must not become a
  // 100 MB string argument handed to a tool.
  if (line.size() > kMaxCallLineBytes)
    return error_at<ToolCall>(line_number, kMaxCallLineBytes + 1,
                              fmt::format("call line is {} bytes long, the limit is {}", line.size(),
                                          kMaxCallLineBytes));
  std::size_t column_base = 1;
  std::string_view body = line;
  bool has_open = starts_with(line, kCallOpen);
  if (has_open || require_tags) {
    if (!has_open) return error_at<ToolCall>(line_number, 1, "expected '<call>'");
    if (!ends_with(line, kCallClose) || line.size() < kCallOpen.size() + kCallClose.size())
      return error_at<ToolCall>(line_number, line.size() + 1,
                                "expected the line to end with '</call>'");
    body = line.substr(kCallOpen.size(), line.size() - kCallOpen.size() - kCallClose.size());
    column_base += kCallOpen.size();
  }
  return CallScanner(body, line_number, column_base).scan();
}

std::optional<std::string> parse_answer_line(std::string_view line) {
  auto parsed = parse_tagged_text(line, 1, kAnswerOpen, kAnswerClose);
  if (!parsed.ok()) return std::nullopt;
  return parsed.value;
}

Parsed<Turn> parse_turn(std::string_view text) {
  Turn turn;
  for (const auto& [number, line] : split_lines(text)) {
    if (line.empty()) continue;
    if (turn.answer)
      return error_at<Turn>(number, 1, "nothing may follow the <answer> line");
    if (starts_with(line, kAnswerOpen)) {
      if (!turn.calls.empty())
        return error_at<Turn>(number, 1, "a turn is either calls or an answer, not both");
      auto answer = parse_tagged_text(line, number, kAnswerOpen, kAnswerClose);
      if (!answer.ok()) return error_at<Turn>(answer.error->line, answer.error->column,
                                              answer.error->message);
      turn.answer = std::move(*answer.value);
      continue;
    }
    if (!starts_with(line, kCallOpen))
      return error_at<Turn>(number, 1, "expected a '<call>' or '<answer>' line");
    auto call = parse_call_line(line, number);
    if (!call.ok()) return error_at<Turn>(call.error->line, call.error->column, call.error->message);
    turn.calls.push_back(std::move(*call.value));
  }
  if (turn.calls.empty() && !turn.answer)
    return error_at<Turn>(1, 1, "empty turn: expected '<call>' or '<answer>' lines");
  Parsed<Turn> out;
  out.value = std::move(turn);
  return out;
}

std::string render_trajectory(const Trajectory& t) {
  std::string out;
  for (const auto& step : t.steps) {
    for (const auto& call : step.calls) out += format_call(call) + "\n";
    for (const auto& result : step.results)
      out += std::string(kResultOpen) + result + std::string(kResultClose) + "\n";
  }
  out += std::string(kAnswerOpen) + t.answer + std::string(kAnswerClose) + "\n";
  return out;
}

Parsed<Trajectory> parse_trajectory(std::string_view text) {
  Trajectory t;
  bool answered = false;
  bool in_results = false;  // the current step has started receiving results
  for (const auto& [number, line] : split_lines(text)) {
    if (line.empty()) continue;
    if (answered) return error_at<Trajectory>(number, 1, "nothing may follow the <answer> line");
    if (starts_with(line, kCallOpen)) {
      if (t.steps.empty() || in_results) {
        if (!t.steps.empty() && t.steps.back().results.size() != t.steps.back().calls.size())
          return error_at<Trajectory>(number, 1, "a new call before every earlier call has its result");
        t.steps.emplace_back();
        in_results = false;
      }
      auto call = parse_call_line(line, number);
      if (!call.ok())
        return error_at<Trajectory>(call.error->line, call.error->column, call.error->message);
      t.steps.back().calls.push_back(std::move(*call.value));
    } else if (starts_with(line, kResultOpen)) {
      if (t.steps.empty() || t.steps.back().results.size() >= t.steps.back().calls.size())
        return error_at<Trajectory>(number, 1, "a <result> line without a pending call");
      auto result = parse_tagged_text(line, number, kResultOpen, kResultClose);
      if (!result.ok())
        return error_at<Trajectory>(result.error->line, result.error->column, result.error->message);
      t.steps.back().results.push_back(std::move(*result.value));
      in_results = true;
    } else if (starts_with(line, kAnswerOpen)) {
      if (!t.steps.empty() && t.steps.back().results.size() != t.steps.back().calls.size())
        return error_at<Trajectory>(number, 1, "<answer> before every call has its result");
      auto answer = parse_tagged_text(line, number, kAnswerOpen, kAnswerClose);
      if (!answer.ok())
        return error_at<Trajectory>(answer.error->line, answer.error->column, answer.error->message);
      t.answer = std::move(*answer.value);
      answered = true;
    } else {
      return error_at<Trajectory>(number, 1, "expected a '<call>', '<result>' or '<answer>' line");
    }
  }
  if (!answered) return error_at<Trajectory>(split_lines(text).size(), 1,
                                             "the trajectory has no <answer> line");
  Parsed<Trajectory> out;
  out.value = std::move(t);
  return out;
}

}  // namespace tenx::agent
