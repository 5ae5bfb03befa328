#pragma once
// The values a template computes with, modelled on the Python objects Jinja2 works with: the
// printing (str / repr), truthiness, equality and ordering follow Python's rules because the
// rendered text must match Jinja2's byte for byte.
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "tenx/chat/jinja.hpp"

namespace tenx::jinja::detail {

struct Value;
using List = std::vector<Value>;

// Lists and dicts nest at most this deep ({% set ns.x = [ns.x] %} in a loop would otherwise build
// a chain whose destruction, printing or comparison recurses past the stack).
constexpr std::uint32_t kMaxValueDepth = 512;

// A Python dict: insertion-ordered, string keys (all chat-template data is JSON).
struct Dict {
  std::vector<std::pair<std::string, Value>> items;
  const Value* find(const std::string& key) const;
  void set(const std::string& key, Value v);
};

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
  const Value* kw(const std::string& name) const;
};

struct Callable {
  std::string name;  // for messages: "<macro 'name'>", "raise_exception"
  std::function<Value(CallArgs&)> call;
};

enum class Kind { Undefined, None, Bool, Int, Float, String, List, Dict, Namespace, Callable };

struct Value {
  Kind kind = Kind::Undefined;
  bool b = false;
  bool tuple = false;  // a List that Python would hold as a tuple: printed "(a, b)"
  std::uint32_t depth = 0;  // List / Dict nesting (bounded: kMaxValueDepth)
  std::int64_t i = 0;
  double f = 0;
  std::string s;  // String's text; Undefined's hint ("'x' is undefined"), raised when it is used
  std::shared_ptr<const List> list;
  std::shared_ptr<const Dict> dict;
  Dict* ns = nullptr;  // Namespace: owned by the render (namespaces are mutable and may cycle)
  std::shared_ptr<const Callable> fn;

  static Value undefined(std::string hint) { Value v; v.s = std::move(hint); return v; }
  static Value none() { Value v; v.kind = Kind::None; return v; }
  static Value boolean(bool x) { Value v; v.kind = Kind::Bool; v.b = x; return v; }
  static Value integer(std::int64_t x) { Value v; v.kind = Kind::Int; v.i = x; return v; }
  static Value real(double x) { Value v; v.kind = Kind::Float; v.f = x; return v; }
  static Value string(std::string x) { Value v; v.kind = Kind::String; v.s = std::move(x); return v; }
  static Value make_list(List items, bool as_tuple = false);
  static Value make_dict(Dict d);
  static Value callable(std::string name, std::function<Value(CallArgs&)> fn);

  bool is_undefined() const { return kind == Kind::Undefined; }
  bool is_number() const { return kind == Kind::Int || kind == Kind::Float || kind == Kind::Bool; }
  bool is_string() const { return kind == Kind::String; }
  bool is_list() const { return kind == Kind::List; }
  bool is_dict() const { return kind == Kind::Dict; }
  const List& items() const { return *list; }
  const Dict& map() const { return *dict; }
};

// Errors raised while evaluating (the evaluator adds the template position).
[[noreturn]] void fail(const std::string& type, const std::string& message);
// Using an undefined value where a defined one is needed: Jinja2's UndefinedError.
[[noreturn]] void fail_undefined(const Value& v);

// Python's type(x).__name__ ("str", "list", "NoneType", ...).
std::string type_name(const Value& v);
// Jinja2's object_type_repr: "'list object'", "'None'" in "has no attribute" hints.
std::string object_type_repr(const Value& v);

bool truthy(const Value& v);
std::string to_str(const Value& v, int depth_limit);   // Python str(); Undefined -> ""
std::string repr(const Value& v, int depth_limit);     // Python repr()
std::string python_float_repr(double d);
std::string python_string_repr(const std::string& s);
bool equal(const Value& a, const Value& b, int depth_limit = 100);
// Python's a < b; raises TypeError for types Python cannot order.
bool less(const Value& a, const Value& b, int depth_limit = 100);

Value from_json(const nlohmann::ordered_json& j);
nlohmann::ordered_json to_json(const Value& v, int depth_limit);
// json.dumps(v, ensure_ascii=False, indent=indent, separators=..., sort_keys=...) as Python
// prints it (float repr, ", " / ": " separators, keys in insertion order).
struct JsonStyle {
  int indent = -1;  // -1: None (one line)
  std::string item_sep = ", ", key_sep = ": ";
  bool sort_keys = false;
};
std::string python_json_dumps(const Value& v, const JsonStyle& style, int depth_limit);

// UTF-8 helpers: Python strings index by code point.
std::vector<std::string> code_points(const std::string& s);
std::size_t code_point_count(const std::string& s);
// Appends the UTF-8 encoding of code point `cp` (at most U+10FFFF).
void append_utf8(std::string& out, std::uint32_t cp);

}  // namespace tenx::jinja::detail
