#pragma once
// A Jinja2 engine for chat templates (docs/chat-templates.md): the subset of the language that
// real Hugging Face / GGUF chat templates use, rendered byte for byte as Jinja2 renders it with
// trim_blocks and lstrip_blocks on (how transformers sets it up). Parsing and rendering are
// separate steps so a template is parsed once and rendered for many conversations.
//
// Values come in as JSON (nlohmann::ordered_json, so a dict keeps its insertion order as Python's
// does) plus named C++ functions (raise_exception, strftime_now: the caller decides what they do).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace tenx::jinja {

// The template does not parse: names the template, 1-based line and column, and what is wrong.
class SyntaxError : public std::runtime_error {
 public:
  SyntaxError(std::string name, int line, int column, std::string message);
  const std::string& name() const { return name_; }
  int line() const { return line_; }
  int column() const { return column_; }
  const std::string& message() const { return message_; }

 private:
  std::string name_;
  int line_, column_;
  std::string message_;
};

// Rendering failed. `type` is the Python exception Jinja2 raises in the same case
// ("TemplateError" for raise_exception, "TypeError", "UndefinedError", ...), so
// what() == "TYPE: MESSAGE" is the text render.py prints for a refused conversation.
class RenderError : public std::runtime_error {
 public:
  RenderError(std::string type, std::string message, int line = 0, int column = 0);
  const std::string& type() const { return type_; }
  const std::string& message() const { return message_; }
  int line() const { return line_; }      // where in the template (0: unknown)
  int column() const { return column_; }

 private:
  std::string type_, message_;
  int line_, column_;
};

// Bounds that keep a hostile template from exhausting the machine (docs/chat-templates.md, the
// fuzz target): exceeding one is a RenderError("LimitError", ...), never a crash.
struct Limits {
  std::size_t max_output = 16u << 20;      // bytes of rendered text, and of any one string value
  std::size_t max_items = 1u << 20;        // elements of any one list / dict value
  int max_depth = 200;                     // nesting: macro calls, expressions, values printed
  std::uint64_t max_steps = 2'000'000;  // units of work (jinja_eval.cpp): real templates take < 20,000
};

// A C++ function callable from the template: positional arguments as JSON, the result as JSON.
using Function = std::function<nlohmann::ordered_json(const std::vector<nlohmann::ordered_json>& args)>;

struct Ast;

class Template {
 public:
  // Throws SyntaxError (naming `name`, line, column) when `text` does not parse.
  static Template parse(const std::string& text, const std::string& name = "<template>");

  // Renders with `context`'s keys as the template's variables and `functions` as callable
  // globals. Throws RenderError.
  std::string render(const nlohmann::ordered_json& context,
                     const std::vector<std::pair<std::string, Function>>& functions = {},
                     const Limits& limits = {}) const;

  const std::string& name() const;

 private:
  std::shared_ptr<const Ast> ast_;
};

}  // namespace tenx::jinja
