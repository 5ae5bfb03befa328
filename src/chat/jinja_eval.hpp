#pragma once
// The evaluator's state for one render: the scopes, the namespaces (both owned here because
// values refer to them by pointer: a namespace may hold itself, a macro its defining scope), the
// output buffer and the limits. Filters, tests and methods live in their own files and reach
// back through this class to call tests, filters and macros.
#include <deque>
#include <string>
#include <unordered_map>

#include "jinja_ast.hpp"
#include "jinja_value.hpp"

namespace tenx::jinja::detail {

struct Scope {
  std::unordered_map<std::string, Value> vars;
  Scope* parent = nullptr;
  const Value* find(const std::string& name) const;
};

class Renderer {
 public:
  explicit Renderer(const Limits& limits) : limits_(limits) {}

  Scope* root() { return &scopes_.front(); }
  Scope* new_scope(Scope* parent);
  Dict* new_namespace();

  std::string render(const Body& body);

  Value eval(const Expr& e, Scope* scope);
  // A filter / test by name; `args.positional` excludes the operand.
  Value filter(const std::string& name, const Value& operand, CallArgs& args);
  bool test(const std::string& name, const Value& operand, CallArgs& args);
  Value call(const Value& callee, CallArgs& args);

  // Counts one unit of work (or n: a loop over n items, a string of n KiB built) against
  // max_steps, and checks a produced size against the limits.
  void step();
  void charge(std::uint64_t n);
  void check_size(std::size_t bytes);
  void check_items(std::size_t n);
  int value_depth() const { return limits_.max_depth; }

 private:
  enum class Flow { Normal, Break, Continue };
  struct DepthGuard {
    Renderer& r;
    explicit DepthGuard(Renderer& renderer);
    ~DepthGuard() { --r.depth_; }
  };

  Flow exec(const Body& body, Scope* scope);
  Flow exec_stmt(const Stmt& s, Scope* scope);
  Flow exec_for(const Stmt& s, Scope* scope);
  void exec_set(const Stmt& s, Scope* scope, Value v);
  void define_macro(const Stmt& s, Scope* scope);
  std::string capture(const Body& body, Scope* scope);
  Value apply_filters(const std::vector<ExprPtr>& filters, Value v, Scope* scope);
  Value eval_binary(const Expr& e, Scope* scope);
  Value eval_compare(const Expr& e, Scope* scope);
  CallArgs eval_args(const Expr& e, Scope* scope, size_t first);
  void emit(const std::string& s);

  // Scopes are released when a loop iteration or macro call ends, unless a macro was defined
  // meanwhile (it keeps a pointer to its defining scope): memory follows the nesting, not the
  // number of iterations.
  struct ScopeMark {
    std::size_t scopes;
    std::uint64_t macros;
  };
  ScopeMark mark() const { return {scopes_.size(), macros_defined_}; }
  void release(const ScopeMark& m);

  Limits limits_;
  std::uint64_t macros_defined_ = 0;
  std::deque<Scope> scopes_{1};
  std::deque<Dict> namespaces_;
  std::string* out_ = nullptr;
  std::uint64_t steps_ = 0;
  int depth_ = 0;
};

// Operators with Python's semantics (jinja_operators.cpp).
Value binary_op(Renderer& r, const std::string& op, const Value& a, const Value& b);
bool contains(const Value& container, const Value& item, int depth);  // Python's `item in container`

// x.name and x[key] as Jinja2's sandboxed environment resolves them (jinja_methods.cpp): dict
// keys, the str and dict methods templates call, or an undefined value naming what is missing.
Value get_attr(Renderer& r, const Value& obj, const std::string& name);
Value get_item(Renderer& r, const Value& obj, const Value& key);
Value slice(const Value& obj, const Value& start, const Value& stop, const Value& step);
// The elements a for loop visits (a dict's keys, a string's characters).
List iterate(const Value& v);

// Python str methods shared with filters (case mapping: jinja_case.cpp).
std::string py_strip(const std::string& s, const Value* chars, bool left, bool right);
std::string py_upper(const std::string& s);
std::string py_lower(const std::string& s);
std::string py_replace(const std::string& s, const std::string& from, const std::string& to, std::int64_t count);
std::string py_title(const std::string& s);
std::string py_capitalize(const std::string& s);

}  // namespace tenx::jinja::detail
