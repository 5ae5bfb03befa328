#pragma once
// The tool-call syntax tenx defines for its agentic suite (grammar: docs/tool-calls.md).
// It is line based and strict so that a model of 0.1M parameters can learn it:
//
//   <call>lookup(patient=17, field="age")</call>      one call per line
//   <result>63</result>                               appended by the environment
//   <answer>63</answer>                               ends the episode
//
// Parallel calls are several call lines before their results. The parser never throws on
// model output: arbitrary bytes give a ParseError with a 1-based line and column.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tenx::agent {

// A typed argument value. Integer and Number are separate so that type checks can tell
// `patient=17` from `patient=17.0`.
using Value = std::variant<std::int64_t, double, std::string, bool>;
enum class ValueType { Integer, Number, String, Boolean };

ValueType type_of(const Value& v);
const char* type_name(ValueType t);                      // "integer", "number", ...
std::optional<ValueType> parse_type_name(std::string_view name);
// The value written in the call syntax: 17, -2.5, "age", true.
std::string format_value(const Value& v);
// Values compare equal when they are the same string/bool, or numerically equal numbers
// (an integer 17 equals a number 17.0).
bool values_equal(const Value& a, const Value& b);

struct Argument {
  std::string name;
  Value value;
};

struct ToolCall {
  std::string name;
  std::vector<Argument> args;  // in written order; names are unique
  const Argument* find(std::string_view arg_name) const;
};

// The canonical one-line form `<call>name(a=1, b="x")</call>` (no newline).
std::string format_call(const ToolCall& call);

// JSON form used in suite files: {"name": "lookup", "args": {"patient": 17, "field": "age"}}.
// Argument order in JSON follows the call's order (nlohmann's ordered_json keeps it).
nlohmann::ordered_json call_to_json(const ToolCall& call);
// Throws tenx::Error(subject, ...) when the JSON is not a call object.
ToolCall call_from_json(const nlohmann::json& j, const std::string& subject);

struct ParseError {
  std::size_t line = 1;    // 1-based
  std::size_t column = 1;  // 1-based byte column
  std::string message;
  std::string to_string() const;  // "line 2, column 14: expected '=' after argument name"
};

// Either a value or a located error; never both.
template <typename T>
struct Parsed {
  std::optional<T> value;
  std::optional<ParseError> error;
  bool ok() const { return value.has_value(); }
};

// Longest call line accepted (tags included); a longer one is a ParseError, not scanned.
inline constexpr std::size_t kMaxCallLineBytes = 64 * 1024;

// Parses one call line, with or without the <call>...</call> tags (tags are required when
// `require_tags`). `line_number` is used for error locations.
Parsed<ToolCall> parse_call_line(std::string_view line, std::size_t line_number = 1,
                                 bool require_tags = true);

// What a model emits in one turn: one or more call lines (run in parallel), or one answer
// line. Empty lines are ignored; anything else is an error.
struct Turn {
  std::vector<ToolCall> calls;
  std::optional<std::string> answer;  // set iff the turn is an answer
};
Parsed<Turn> parse_turn(std::string_view text);

// A whole trajectory: steps of (calls, their results in the same order), then the answer.
struct Step {
  std::vector<ToolCall> calls;
  std::vector<std::string> results;
};
struct Trajectory {
  std::vector<Step> steps;
  std::string answer;
};
// Renders `<call>` lines, then `<result>` lines per step, then `<answer>`; lines end in '\n'.
std::string render_trajectory(const Trajectory& t);
// The inverse of render_trajectory; strict (every step needs as many results as calls).
Parsed<Trajectory> parse_trajectory(std::string_view text);

// The text between <answer> and </answer>, trimmed of spaces; nullopt if not an answer line.
std::optional<std::string> parse_answer_line(std::string_view line);

}  // namespace tenx::agent
