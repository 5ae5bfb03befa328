#pragma once
// The parsed template: expression and statement trees. One node type per layer with a kind tag
// keeps the evaluator a pair of switches.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "jinja_value.hpp"
#include "tenx/chat/jinja.hpp"

namespace tenx::jinja::detail {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

enum class ExprKind {
  Literal,    // value
  Name,       // name
  ListLit,    // args; tuple=true for (a, b)
  DictLit,    // args: key, value, key, value...
  Attr,       // args[0].name
  Index,      // args[0][args[1]]
  Slice,      // args[0][args[1]:args[2]:args[3]] (null parts absent)
  Call,       // args[0](args[1:], kwargs)
  Filter,     // args[0] | name(args[1:], kwargs)
  Test,       // args[0] is [not] name(args[1:])
  Unary,      // op args[0]: "-", "+", "not"
  Binary,     // args[0] op args[1]: + - * / // % ** ~ and or
  Compare,    // args[0] ops[0] args[1] ops[1] args[2]...: == != < > <= >= in "not in"
  Cond,       // args[1] if args[0] else args[2] (args[2] null: undefined)
};

struct Expr {
  ExprKind kind;
  int line = 0, column = 0;
  std::string name;  // Name, Attr, Filter, Test; Unary/Binary operator
  Value value;       // Literal
  bool tuple = false, negated = false;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;  // Compare
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class StmtKind {
  Text,       // text
  Output,     // {{ expr }}
  If,         // expr, body, else_body (an elif is an If alone in else_body)
  For,        // targets in expr [if cond] body [else else_body]
  Set,        // targets = expr, or target.attr = expr (attr non-empty)
  SetBlock,   // {% set target %}body{% endset %}, filters applied to the body's text
  Macro,      // name(params) body
  Break,
  Continue,
  FilterBlock,  // {% filter f %}body{% endfilter %}
};

struct Stmt {
  StmtKind kind;
  int line = 0, column = 0;
  std::string text;  // Text; Macro's name
  ExprPtr expr, cond;
  std::vector<std::string> targets;
  std::string attr;
  Body body, else_body;
  std::vector<std::pair<std::string, ExprPtr>> params;  // Macro: name, default (may be null)
  std::vector<ExprPtr> filters;  // SetBlock / FilterBlock: Filter nodes whose args[0] is null
};

}  // namespace tenx::jinja::detail

namespace tenx::jinja {
struct Ast {
  std::string name;
  detail::Body body;
};
}  // namespace tenx::jinja
