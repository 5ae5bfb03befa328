// Statement execution and expression evaluation with Jinja2's scoping: a for loop's body gets a
// fresh scope per iteration (so a {% set %} inside it does not leak, which is why templates use
// namespace()), a macro runs in a scope whose parent is where it was defined, {% if %} opens none.
#include "jinja_eval.hpp"

#include <fmt/format.h>

namespace tenx::jinja::detail {
namespace {

// What a step costs is calibrated so that Limits::max_steps bounds the time of a render
// (docs/reliability.md, "Templates"): a for-loop iteration builds a scope and the 12-entry `loop`
// object, ~15x an expression's work; a string costs a step per 64 bytes built.
constexpr std::uint64_t kLoopIterationSteps = 16;
constexpr unsigned kBytesPerStep = 6;  // log2(64)

}  // namespace

const Value* Scope::find(const std::string& name) const {
  for (const Scope* s = this; s; s = s->parent) {
    auto it = s->vars.find(name);
    if (it != s->vars.end()) return &it->second;
  }
  return nullptr;
}

Renderer::DepthGuard::DepthGuard(Renderer& renderer) : r(renderer) {
  if (++r.depth_ > r.limits_.max_depth) {
    --r.depth_;
    fail("LimitError", fmt::format("nesting deeper than {} (macro recursion?)", r.limits_.max_depth));
  }
}

Scope* Renderer::new_scope(Scope* parent) {
  step();
  scopes_.emplace_back();
  scopes_.back().parent = parent;
  return &scopes_.back();
}

Dict* Renderer::new_namespace() {
  namespaces_.emplace_back();
  return &namespaces_.back();
}

void Renderer::release(const ScopeMark& m) {
  if (macros_defined_ != m.macros) return;
  while (scopes_.size() > m.scopes) scopes_.pop_back();
}

void Renderer::step() { charge(1); }

void Renderer::charge(std::uint64_t n) {
  steps_ += n;
  if (steps_ > limits_.max_steps)
    fail("LimitError", fmt::format("more than {} evaluation steps", limits_.max_steps));
}

void Renderer::check_size(std::size_t bytes) {
  if (bytes > limits_.max_output)
    fail("LimitError", fmt::format("a string of more than {} bytes", limits_.max_output));
  charge(bytes >> kBytesPerStep);  // building a long string is work too
}

void Renderer::check_items(std::size_t n) {
  if (n > limits_.max_items) fail("LimitError", fmt::format("a list of more than {} items", limits_.max_items));
  charge(n);  // each element is copied (a Value holds shared pointers): one step each
}

void Renderer::emit(const std::string& s) {
  if (out_->size() + s.size() > limits_.max_output)
    fail("LimitError", fmt::format("output longer than {} bytes", limits_.max_output));
  *out_ += s;
}

std::string Renderer::render(const Body& body) {
  std::string out;
  out_ = &out;
  exec(body, root());
  return out;
}

std::string Renderer::capture(const Body& body, Scope* scope) {
  std::string text;
  std::string* saved = out_;
  out_ = &text;
  try {
    exec(body, scope);
  } catch (...) {
    out_ = saved;
    throw;
  }
  out_ = saved;
  return text;
}

Renderer::Flow Renderer::exec(const Body& body, Scope* scope) {
  for (const auto& s : body) {
    const Flow f = exec_stmt(*s, scope);
    if (f != Flow::Normal) return f;
  }
  return Flow::Normal;
}

Renderer::Flow Renderer::exec_stmt(const Stmt& s, Scope* scope) {
  step();
  DepthGuard guard(*this);
  try {
    switch (s.kind) {
      case StmtKind::Text: emit(s.text); return Flow::Normal;
      case StmtKind::Output: emit(to_str(eval(*s.expr, scope), limits_.max_depth)); return Flow::Normal;
      case StmtKind::If: return exec(truthy(eval(*s.expr, scope)) ? s.body : s.else_body, scope);
      case StmtKind::For: return exec_for(s, scope);
      case StmtKind::Set: exec_set(s, scope, eval(*s.expr, scope)); return Flow::Normal;
      case StmtKind::SetBlock:
        exec_set(s, scope, apply_filters(s.filters, Value::string(capture(s.body, scope)), scope));
        return Flow::Normal;
      case StmtKind::FilterBlock:
        emit(to_str(apply_filters(s.filters, Value::string(capture(s.body, scope)), scope), limits_.max_depth));
        return Flow::Normal;
      case StmtKind::Macro: define_macro(s, scope); return Flow::Normal;
      case StmtKind::Break: return Flow::Break;
      case StmtKind::Continue: return Flow::Continue;
    }
  } catch (const RenderError& e) {
    if (e.line() == 0) throw RenderError(e.type(), e.message(), s.line, s.column);
    throw;
  }
  return Flow::Normal;
}

Value Renderer::apply_filters(const std::vector<ExprPtr>& filters, Value v, Scope* scope) {
  for (const auto& f : filters) {
    CallArgs args = eval_args(*f, scope, 1);
    v = filter(f->name, v, args);
  }
  return v;
}

namespace {

// Binds a for loop's / set's targets: one name takes the value, several unpack a sequence.
void bind_targets(Scope* scope, const std::vector<std::string>& targets, const Value& v) {
  if (targets.size() == 1) {
    scope->vars[targets[0]] = v;
    return;
  }
  List parts;
  if (v.is_list()) parts = v.items();
  else if (v.is_string() || v.is_dict()) parts = iterate(v);
  else fail("TypeError", "cannot unpack non-iterable " + type_name(v) + " object");
  if (parts.size() < targets.size())
    fail("ValueError", fmt::format("not enough values to unpack (expected {}, got {})", targets.size(), parts.size()));
  if (parts.size() > targets.size())
    fail("ValueError", fmt::format("too many values to unpack (expected {})", targets.size()));
  for (size_t k = 0; k < targets.size(); ++k) scope->vars[targets[k]] = parts[k];
}

}  // namespace

Renderer::Flow Renderer::exec_for(const Stmt& s, Scope* scope) {
  const Value seq = eval(*s.expr, scope);
  List all = iterate(seq);
  charge(all.size());
  List items;
  if (s.cond) {
    // The loop filter sees each item bound to the target (but no `loop`); the loop then runs
    // over what passed, so loop.length and loop.last count only those.
    for (const auto& item : all) {
      const ScopeMark m = mark();
      Scope* probe = new_scope(scope);
      bind_targets(probe, s.targets, item);
      if (truthy(eval(*s.cond, probe))) items.push_back(item);
      release(m);
    }
  } else {
    items = std::move(all);
  }
  if (items.empty()) return exec(s.else_body, scope), Flow::Normal;
  const auto n = static_cast<std::int64_t>(items.size());
  for (std::int64_t k = 0; k < n; ++k) {
    const ScopeMark m = mark();
    Scope* iter = new_scope(scope);
    bind_targets(iter, s.targets, items[static_cast<size_t>(k)]);
    Dict loop;
    loop.set("index", Value::integer(k + 1));
    loop.set("index0", Value::integer(k));
    loop.set("revindex", Value::integer(n - k));
    loop.set("revindex0", Value::integer(n - k - 1));
    loop.set("first", Value::boolean(k == 0));
    loop.set("last", Value::boolean(k == n - 1));
    loop.set("length", Value::integer(n));
    loop.set("depth", Value::integer(1));
    loop.set("depth0", Value::integer(0));
    loop.set("previtem", k > 0 ? items[static_cast<size_t>(k - 1)] : Value::undefined("there is no previous item"));
    loop.set("nextitem", k + 1 < n ? items[static_cast<size_t>(k + 1)] : Value::undefined("there is no next item"));
    loop.set("cycle", Value::callable("loop.cycle", [k](CallArgs& a) {
      if (a.positional.empty()) fail("TypeError", "no items for cycling given");
      return a.positional[static_cast<size_t>(k) % a.positional.size()];
    }));
    iter->vars["loop"] = Value::make_dict(std::move(loop));
    charge(kLoopIterationSteps);
    const Flow f = exec(s.body, iter);
    release(m);
    if (f == Flow::Break) break;
  }
  return Flow::Normal;
}

void Renderer::exec_set(const Stmt& s, Scope* scope, Value v) {
  if (s.attr.empty()) {
    bind_targets(scope, s.targets, v);
    return;
  }
  const Value* target = scope->find(s.targets[0]);
  if (!target || target->kind != Kind::Namespace)
    fail("TemplateRuntimeError", "cannot assign attribute on non-namespace object");
  target->ns->set(s.attr, std::move(v));
}

void Renderer::define_macro(const Stmt& s, Scope* scope) {
  const Stmt* def = &s;
  ++macros_defined_;
  scope->vars[s.text] = Value::callable(s.text, [this, def, scope](CallArgs& a) {
    DepthGuard guard(*this);
    const auto& params = def->params;
    if (a.positional.size() > params.size())
      fail("TypeError", fmt::format("macro '{}' takes not more than {} argument(s)", def->text, params.size()));
    const ScopeMark m = mark();
    Scope* local = new_scope(scope);
    std::vector<bool> given(params.size(), false);
    for (size_t k = 0; k < a.positional.size(); ++k) {
      local->vars[params[k].first] = a.positional[k];
      given[k] = true;
    }
    for (const auto& [key, v] : a.keyword) {
      size_t k = 0;
      while (k < params.size() && params[k].first != key) ++k;
      if (k == params.size()) fail("TypeError", fmt::format("macro '{}' takes no keyword argument '{}'", def->text, key));
      if (given[k]) fail("TypeError", fmt::format("macro '{}' got multiple values for argument '{}'", def->text, key));
      local->vars[key] = v;
      given[k] = true;
    }
    for (size_t k = 0; k < params.size(); ++k) {
      if (given[k]) continue;
      local->vars[params[k].first] = params[k].second
                                         ? eval(*params[k].second, local)
                                         : Value::undefined("parameter '" + params[k].first + "' was not provided");
    }
    Value out = Value::string(capture(def->body, local));
    release(m);
    return out;
  });
}

CallArgs Renderer::eval_args(const Expr& e, Scope* scope, size_t first) {
  CallArgs a;
  for (size_t k = first; k < e.args.size(); ++k) a.positional.push_back(eval(*e.args[k], scope));
  for (const auto& [key, v] : e.kwargs) a.keyword.emplace_back(key, eval(*v, scope));
  return a;
}

Value Renderer::call(const Value& callee, CallArgs& args) {
  if (callee.is_undefined()) fail_undefined(callee);
  if (callee.kind != Kind::Callable) fail("TypeError", "'" + type_name(callee) + "' object is not callable");
  return callee.fn->call(args);
}

Value Renderer::eval(const Expr& e, Scope* scope) {
  step();
  DepthGuard guard(*this);
  switch (e.kind) {
    case ExprKind::Literal: return e.value;
    case ExprKind::Name: {
      const Value* v = scope->find(e.name);
      return v ? *v : Value::undefined("'" + e.name + "' is undefined");
    }
    case ExprKind::ListLit: {
      List items;
      for (const auto& a : e.args) items.push_back(eval(*a, scope));
      return Value::make_list(std::move(items), e.tuple);
    }
    case ExprKind::DictLit: {
      Dict d;
      for (size_t k = 0; k + 1 < e.args.size(); k += 2) {
        Value key = eval(*e.args[k], scope);
        if (!key.is_string()) fail("TypeError", "tenx's Jinja engine supports only string dict keys, not " + type_name(key));
        d.set(key.s, eval(*e.args[k + 1], scope));
      }
      return Value::make_dict(std::move(d));
    }
    case ExprKind::Attr: {
      const Value obj = eval(*e.args[0], scope);
      if (obj.is_undefined()) fail_undefined(obj);
      return get_attr(*this, obj, e.name);
    }
    case ExprKind::Index: {
      const Value obj = eval(*e.args[0], scope);
      const Value key = eval(*e.args[1], scope);
      if (obj.is_undefined()) fail_undefined(obj);
      return get_item(*this, obj, key);
    }
    case ExprKind::Slice: {
      const Value obj = eval(*e.args[0], scope);
      Value parts[3];
      for (int k = 0; k < 3; ++k) parts[k] = e.args[k + 1] ? eval(*e.args[k + 1], scope) : Value::none();
      if (obj.is_undefined()) fail_undefined(obj);
      return slice(obj, parts[0], parts[1], parts[2]);
    }
    case ExprKind::Call: {
      const Value callee = eval(*e.args[0], scope);
      CallArgs args = eval_args(e, scope, 1);
      return call(callee, args);
    }
    case ExprKind::Filter: {
      const Value operand = eval(*e.args[0], scope);
      CallArgs args = eval_args(e, scope, 1);
      return filter(e.name, operand, args);
    }
    case ExprKind::Test: {
      const Value operand = eval(*e.args[0], scope);
      CallArgs args = eval_args(e, scope, 1);
      return Value::boolean(test(e.name, operand, args) != e.negated);
    }
    case ExprKind::Unary: {
      const Value v = eval(*e.args[0], scope);
      if (e.name == "not") return Value::boolean(!truthy(v));
      if (v.is_undefined()) fail_undefined(v);
      if (e.name == "+" && v.is_number()) return v.kind == Kind::Bool ? Value::integer(v.b) : v;
      if (v.kind == Kind::Int) {
        if (v.i == INT64_MIN) fail("OverflowError", "integer overflow (tenx's integers are 64-bit)");
        return Value::integer(-v.i);
      }
      if (v.kind == Kind::Bool) return Value::integer(-static_cast<std::int64_t>(v.b));
      if (v.kind == Kind::Float) return Value::real(-v.f);
      fail("TypeError", "bad operand type for unary " + e.name + ": '" + type_name(v) + "'");
    }
    case ExprKind::Binary: return eval_binary(e, scope);
    case ExprKind::Compare: return eval_compare(e, scope);
    case ExprKind::Cond:
      if (truthy(eval(*e.args[0], scope))) return eval(*e.args[1], scope);
      if (e.args[2]) return eval(*e.args[2], scope);
      return Value::undefined("the inline if-expression on line " + std::to_string(e.line) +
                              " evaluated to false and no else section was defined.");
  }
  return Value();
}

Value Renderer::eval_binary(const Expr& e, Scope* scope) {
  const Value a = eval(*e.args[0], scope);
  if (e.name == "and") return truthy(a) ? eval(*e.args[1], scope) : a;
  if (e.name == "or") return truthy(a) ? a : eval(*e.args[1], scope);
  const Value b = eval(*e.args[1], scope);
  if (e.name == "~") {
    const std::string l = to_str(a, limits_.max_depth), r = to_str(b, limits_.max_depth);
    check_size(l.size() + r.size());
    return Value::string(l + r);
  }
  return binary_op(*this, e.name, a, b);
}

Value Renderer::eval_compare(const Expr& e, Scope* scope) {
  Value left = eval(*e.args[0], scope);
  for (size_t k = 0; k < e.ops.size(); ++k) {
    Value right = eval(*e.args[k + 1], scope);
    const std::string& op = e.ops[k];
    const int d = limits_.max_depth;
    bool ok;
    if (op == "==") ok = equal(left, right, d);
    else if (op == "!=") ok = !equal(left, right, d);
    else if (op == "<") ok = less(left, right, d);
    else if (op == ">") ok = less(right, left, d);
    else if (op == "<=") ok = less(left, right, d) || equal(left, right, d);
    else if (op == ">=") ok = less(right, left, d) || equal(left, right, d);
    else if (op == "in") ok = contains(right, left, d);
    else ok = !contains(right, left, d);
    if (!ok) return Value::boolean(false);
    left = std::move(right);
  }
  return Value::boolean(true);
}

}  // namespace tenx::jinja::detail
