// Template: parse once, render many times; the render-time globals Jinja2 provides (namespace,
// range, dict) next to the caller's functions.
#include <fmt/format.h>

#include "jinja_eval.hpp"
#include "jinja_parser.hpp"
#include "tenx/chat/jinja.hpp"

namespace tenx::jinja {

SyntaxError::SyntaxError(std::string name, int line, int column, std::string message)
    : std::runtime_error(fmt::format("{}:{}:{}: {}", name, line, column, message)),
      name_(std::move(name)), line_(line), column_(column), message_(std::move(message)) {}

RenderError::RenderError(std::string type, std::string message, int line, int column)
    : std::runtime_error(type + ": " + message), type_(std::move(type)), message_(std::move(message)),
      line_(line), column_(column) {}

Template Template::parse(const std::string& text, const std::string& name) {
  auto ast = std::make_shared<Ast>();
  ast->name = name;
  ast->body = detail::parse(text, name);
  Template t;
  t.ast_ = std::move(ast);
  return t;
}

const std::string& Template::name() const { return ast_->name; }

namespace {

using namespace detail;

// Jinja2's sandbox caps range() at 100000 items (MAX_RANGE).
constexpr std::int64_t kMaxRange = 100000;

Value make_range(Renderer& r, CallArgs& a) {
  std::int64_t v[3] = {0, 0, 1};
  const size_t n = a.positional.size();
  if (n < 1 || n > 3) fail("TypeError", fmt::format("range expected 1 to 3 arguments, got {}", n));
  for (size_t k = 0; k < n; ++k) {
    const Value& x = a.positional[k];
    if (x.kind != Kind::Int && x.kind != Kind::Bool)
      fail("TypeError", fmt::format("'{}' object cannot be interpreted as an integer", type_name(x)));
  }
  const auto get = [&](size_t k) { return a.positional[k].kind == Kind::Bool ? std::int64_t{a.positional[k].b} : a.positional[k].i; };
  if (n == 1) v[1] = get(0);
  else { v[0] = get(0); v[1] = get(1); if (n == 3) v[2] = get(2); }
  if (v[2] == 0) fail("ValueError", "range() arg 3 must not be zero");
  List out;
  for (std::int64_t x = v[0]; v[2] > 0 ? x < v[1] : x > v[1];) {
    if (static_cast<std::int64_t>(out.size()) >= kMaxRange)
      fail("OverflowError", "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
    out.push_back(Value::integer(x));
    r.step();
    if (__builtin_add_overflow(x, v[2], &x)) break;
  }
  return Value::make_list(std::move(out));
}

}  // namespace

std::string Template::render(const nlohmann::ordered_json& context,
                             const std::vector<std::pair<std::string, Function>>& functions,
                             const Limits& limits) const {
  Renderer r(limits);
  Scope* root = r.root();
  root->vars["range"] = Value::callable("range", [&r](CallArgs& a) { return make_range(r, a); });
  root->vars["namespace"] = Value::callable("namespace", [&r](CallArgs& a) {
    Dict* ns = r.new_namespace();
    for (const auto& p : a.positional) {
      if (!p.is_dict()) fail("TypeError", "namespace() takes a mapping or keyword arguments");
      for (const auto& [k, v] : p.map().items) ns->set(k, v);
    }
    for (const auto& [k, v] : a.keyword) ns->set(k, v);
    Value out;
    out.kind = Kind::Namespace;
    out.ns = ns;
    return out;
  });
  root->vars["dict"] = Value::callable("dict", [](CallArgs& a) {
    Dict d;
    for (const auto& p : a.positional) {
      if (!p.is_dict()) fail("TypeError", "dict() takes a mapping or keyword arguments");
      for (const auto& [k, v] : p.map().items) d.set(k, v);
    }
    for (const auto& [k, v] : a.keyword) d.set(k, v);
    return Value::make_dict(std::move(d));
  });
  for (const auto& [name, fn] : functions) {
    root->vars[name] = Value::callable(name, [fn = fn, &limits](CallArgs& a) {
      std::vector<nlohmann::ordered_json> args;
      for (const auto& p : a.positional) args.push_back(to_json(p, limits.max_depth));
      for (const auto& kv : a.keyword) args.push_back(to_json(kv.second, limits.max_depth));
      return from_json(fn(args));
    });
  }
  if (context.is_object())
    for (const auto& [k, v] : context.items()) root->vars[k] = from_json(v);
  return r.render(ast_->body);
}

}  // namespace tenx::jinja
