// Arithmetic and `in` with Python's rules: int op int stays int (64-bit here; overflow is an
// error rather than a silent wrap), / is true division, // and % floor, str + str concatenates,
// and the TypeError messages are Python's, since a refused conversation's message is compared.
#include <fmt/format.h>

#include <cmath>

#include "jinja_eval.hpp"

namespace tenx::jinja::detail {
namespace {

double as_double(const Value& v) {
  return v.kind == Kind::Float ? v.f : static_cast<double>(v.kind == Kind::Bool ? v.b : v.i);
}
std::int64_t as_int(const Value& v) { return v.kind == Kind::Bool ? v.b : v.i; }

[[noreturn]] void unsupported(const std::string& op, const Value& a, const Value& b) {
  fail("TypeError", "unsupported operand type(s) for " + op + ": '" + type_name(a) + "' and '" + type_name(b) + "'");
}
[[noreturn]] void overflow() { fail("OverflowError", "integer overflow (tenx's integers are 64-bit)"); }

Value repeat(Renderer& r, const Value& seq, std::int64_t n) {
  if (n <= 0) return seq.is_string() ? Value::string("") : Value::make_list({});
  if (seq.is_string()) {
    if (seq.s.empty()) return seq;
    r.check_size(seq.s.size() * static_cast<std::uint64_t>(std::min<std::int64_t>(n, INT32_MAX)));
    std::string out;
    for (std::int64_t k = 0; k < n; ++k) out += seq.s;
    return Value::string(std::move(out));
  }
  if (seq.items().empty()) return seq;
  r.check_items(seq.items().size() * static_cast<std::uint64_t>(std::min<std::int64_t>(n, INT32_MAX)));
  List out;
  for (std::int64_t k = 0; k < n; ++k) out.insert(out.end(), seq.items().begin(), seq.items().end());
  return Value::make_list(std::move(out));
}

double floor_mod(double a, double b) {
  double m = std::fmod(a, b);
  if (m != 0 && ((m < 0) != (b < 0))) m += b;
  return m;
}

}  // namespace

Value binary_op(Renderer& r, const std::string& op, const Value& a, const Value& b) {
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
  const bool ints = (a.kind == Kind::Int || a.kind == Kind::Bool) && (b.kind == Kind::Int || b.kind == Kind::Bool);
  const bool nums = a.is_number() && b.is_number();
  if (op == "+") {
    if (ints) {
      std::int64_t out;
      if (__builtin_add_overflow(as_int(a), as_int(b), &out)) overflow();
      return Value::integer(out);
    }
    if (nums) return Value::real(as_double(a) + as_double(b));
    if (a.is_string() && b.is_string()) {
      r.check_size(a.s.size() + b.s.size());
      return Value::string(a.s + b.s);
    }
    if (a.is_list() && b.is_list()) {
      r.check_items(a.items().size() + b.items().size());
      List out = a.items();
      out.insert(out.end(), b.items().begin(), b.items().end());
      return Value::make_list(std::move(out), a.tuple && b.tuple);
    }
    if (a.is_string() || a.is_list())
      fail("TypeError", fmt::format("can only concatenate {} (not \"{}\") to {}", type_name(a), type_name(b), type_name(a)));
    unsupported("+", a, b);
  }
  if (op == "-") {
    if (ints) {
      std::int64_t out;
      if (__builtin_sub_overflow(as_int(a), as_int(b), &out)) overflow();
      return Value::integer(out);
    }
    if (nums) return Value::real(as_double(a) - as_double(b));
    unsupported("-", a, b);
  }
  if (op == "*") {
    if (ints) {
      std::int64_t out;
      if (__builtin_mul_overflow(as_int(a), as_int(b), &out)) overflow();
      return Value::integer(out);
    }
    if (nums) return Value::real(as_double(a) * as_double(b));
    if ((a.is_string() || a.is_list()) && (b.kind == Kind::Int || b.kind == Kind::Bool)) return repeat(r, a, as_int(b));
    if ((b.is_string() || b.is_list()) && (a.kind == Kind::Int || a.kind == Kind::Bool)) return repeat(r, b, as_int(a));
    unsupported("*", a, b);
  }
  if (op == "/") {
    if (!nums) unsupported("/", a, b);
    if (as_double(b) == 0) fail("ZeroDivisionError", ints ? "division by zero" : "float division by zero");
    return Value::real(as_double(a) / as_double(b));
  }
  if (op == "//" || op == "%") {
    if (!nums) {
      if (op == "%" && a.is_string()) fail("TypeError", "tenx's Jinja engine does not support printf-style '%' formatting");
      unsupported(op, a, b);
    }
    if (ints) {
      const std::int64_t x = as_int(a), y = as_int(b);
      if (y == 0) fail("ZeroDivisionError", "integer division or modulo by zero");
      if (x == INT64_MIN && y == -1) overflow();
      std::int64_t q = x / y, m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) { --q; m += y; }
      return Value::integer(op == "//" ? q : m);
    }
    const double x = as_double(a), y = as_double(b);
    if (y == 0) fail("ZeroDivisionError", op == "//" ? "float floor division by zero" : "float modulo");
    if (op == "%") return Value::real(floor_mod(x, y));
    // float.__floordiv__ (Objects/floatobject.c: float_divmod).
    const double mod = std::fmod(x, y);
    double div = (x - mod) / y;
    if (mod != 0 && ((y < 0) != (mod < 0))) div -= 1.0;
    double floordiv = std::floor(div);
    if (div - floordiv > 0.5) floordiv += 1.0;
    return Value::real(div == 0 ? std::copysign(0.0, x / y) : floordiv);
  }
  if (op == "**") {
    if (!nums) unsupported("** or pow()", a, b);
    if (ints && as_int(b) >= 0) {
      std::int64_t base = as_int(a), e = as_int(b), out = 1;
      while (e > 0) {
        if ((e & 1) && __builtin_mul_overflow(out, base, &out)) overflow();
        e >>= 1;
        if (e > 0 && __builtin_mul_overflow(base, base, &base)) overflow();
      }
      return Value::integer(out);
    }
    if (as_double(a) == 0 && as_double(b) < 0)
      fail("ZeroDivisionError", "0.0 cannot be raised to a negative power");
    return Value::real(std::pow(as_double(a), as_double(b)));
  }
  fail("TypeError", "unknown operator " + op);
}

bool contains(const Value& container, const Value& item, int depth) {
  switch (container.kind) {
    case Kind::String:
      if (!item.is_string()) {
        if (item.is_undefined()) fail_undefined(item);
        fail("TypeError", "'in <string>' requires string as left operand, not " + type_name(item));
      }
      return container.s.find(item.s) != std::string::npos;
    case Kind::List:
      for (const auto& e : container.items())
        if (equal(e, item, depth)) return true;
      return false;
    case Kind::Dict: return item.is_string() && container.map().find(item.s) != nullptr;
    case Kind::Undefined: return false;  // Undefined iterates as empty
    default: fail("TypeError", "argument of type '" + type_name(container) + "' is not iterable");
  }
}

}  // namespace tenx::jinja::detail
