// The `is` tests (jinja2/tests.py), with Python's type rules: bool counts as a number but not as
// an integer, a string is iterable and a sequence, an undefined value is iterable (as empty).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "jinja_builtins.hpp"
#include "jinja_eval.hpp"

namespace tenx::jinja::detail {
namespace {

const Value& arg(const CallArgs& a, size_t k, const std::string& test) {
  if (k >= a.positional.size()) fail("TypeError", fmt::format("test '{}' needs {} argument(s)", test, k + 1));
  return a.positional[k];
}

}  // namespace

bool Renderer::test(const std::string& name, const Value& v, CallArgs& a) {
  const int d = value_depth();
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.kind == Kind::None;
  if (name == "string") return v.is_string();
  if (name == "mapping") return v.is_dict();
  if (name == "iterable") return v.is_list() || v.is_dict() || v.is_string() || v.is_undefined();
  if (name == "sequence") return v.is_list() || v.is_dict() || v.is_string() || v.is_undefined();
  if (name == "number") return v.is_number();
  if (name == "integer") return v.kind == Kind::Int;
  if (name == "float") return v.kind == Kind::Float;
  if (name == "boolean") return v.kind == Kind::Bool;
  if (name == "true") return v.kind == Kind::Bool && v.b;
  if (name == "false") return v.kind == Kind::Bool && !v.b;
  if (name == "callable") return v.kind == Kind::Callable;
  if (name == "lower" || name == "upper") {
    const std::string s = to_str(v, d);
    return name == "lower" ? py_lower(s) == s : py_upper(s) == s;
  }
  if (name == "eq" || name == "equalto" || name == "==") return equal(v, arg(a, 0, name), d);
  if (name == "ne" || name == "!=") return !equal(v, arg(a, 0, name), d);
  if (name == "lt" || name == "lessthan" || name == "<") return less(v, arg(a, 0, name), d);
  if (name == "gt" || name == "greaterthan" || name == ">") return less(arg(a, 0, name), v, d);
  if (name == "le" || name == "<=") return !less(arg(a, 0, name), v, d);
  if (name == "ge" || name == ">=") return !less(v, arg(a, 0, name), d);
  if (name == "in") return contains(arg(a, 0, name), v, d);
  if (name == "sameas") {
    const Value& o = arg(a, 0, name);
    if (v.kind != o.kind) return false;
    if (v.kind == Kind::None || v.kind == Kind::Undefined) return true;
    if (v.kind == Kind::Bool) return v.b == o.b;
    if (v.kind == Kind::List) return v.list == o.list;
    if (v.kind == Kind::Dict) return v.dict == o.dict;
    if (v.kind == Kind::Namespace) return v.ns == o.ns;
    return false;
  }
  if (name == "odd" || name == "even" || name == "divisibleby") {
    if (v.is_undefined()) fail_undefined(v);
    if (v.kind != Kind::Int && v.kind != Kind::Bool)
      fail("TypeError", "unsupported operand type(s) for %: '" + type_name(v) + "' and 'int'");
    const std::int64_t x = v.kind == Kind::Bool ? v.b : v.i;
    if (name == "odd") return x % 2 != 0;
    if (name == "even") return x % 2 == 0;
    const Value& n = arg(a, 0, name);
    if (n.kind != Kind::Int) fail("TypeError", "divisibleby needs an integer");
    if (n.i == 0) fail("ZeroDivisionError", "integer division or modulo by zero");
    if (n.i == -1) return true;
    return x % n.i == 0;
  }
  fail("TemplateRuntimeError", "No test named '" + name + "'.");
}

bool is_known_test(const std::string& name) {
  static const char* const kNames[] = {"!=", "<", "<=", "==", ">", ">=", "boolean", "callable", "defined", "divisibleby", "eq", "equalto", "even", "false", "float", "ge", "greaterthan", "gt", "in", "integer", "iterable", "le", "lessthan", "lower", "lt", "mapping", "ne", "none", "number", "odd", "sameas", "sequence", "string", "true", "undefined", "upper"};
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

}  // namespace tenx::jinja::detail
