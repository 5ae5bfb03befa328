// The filters (jinja2/filters.py) chat templates use, with Hugging Face's tojson: json.dumps with
// ensure_ascii=False and its indent / separators / sort_keys keywords, keys in insertion order.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "jinja_builtins.hpp"
#include "jinja_eval.hpp"

namespace tenx::jinja::detail {
namespace {

// Positional argument k, or keyword `name`, or null.
const Value* param(const CallArgs& a, size_t k, const char* name) {
  if (k < a.positional.size()) return &a.positional[k];
  return a.kw(name);
}

std::int64_t int_param(const CallArgs& a, size_t k, const char* name, std::int64_t def) {
  const Value* v = param(a, k, name);
  if (!v || v->kind == Kind::None) return def;
  if (v->kind == Kind::Int) return v->i;
  if (v->kind == Kind::Bool) return v->b;
  fail("TypeError", std::string("argument '") + name + "' must be an integer");
}

bool bool_param(const CallArgs& a, size_t k, const char* name, bool def) {
  const Value* v = param(a, k, name);
  return v ? truthy(*v) : def;
}

// Jinja2's attribute lookup for map / selectattr / sort: "a.b" walks, digits index.
Value attribute_of(Renderer& r, const Value& item, const std::string& path) {
  Value v = item;
  size_t start = 0;
  for (;;) {
    const size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    const bool digits = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (v.is_undefined()) return v;
    v = digits && part.size() < 18 ? get_item(r, v, Value::integer(std::atoll(part.c_str()))) : get_item(r, v, Value::string(part));
    if (dot == std::string::npos) return v;
    start = dot + 1;
  }
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

Value py_round(double x, std::int64_t precision, const std::string& method) {
  const double scale = std::pow(10.0, static_cast<double>(precision));
  double y = x * scale;
  if (method == "ceil") y = std::ceil(y);
  else if (method == "floor") y = std::floor(y);
  else if (method == "common") y = std::nearbyint(y);  // Python's round(): half to even
  else fail("FilterArgumentError", "method must be common, ceil or floor");
  return Value::real(y / scale);
}

}  // namespace

Value Renderer::filter(const std::string& name, const Value& v, CallArgs& a) {
  const int d = value_depth();
  // Filters walk their operand: a list's items or a string's bytes are work.
  charge(v.is_list() ? v.items().size() : v.is_dict() ? v.map().items.size() : v.is_string() ? v.s.size() >> 6 : 0);
  if (name == "tojson") {
    JsonStyle st;
    if (const Value* ind = param(a, 1, "indent"); ind && ind->kind != Kind::None) {
      if (ind->kind == Kind::Int) st.indent = static_cast<int>(std::clamp<std::int64_t>(ind->i, 0, 64));
      else if (ind->is_string()) fail("TypeError", "tenx's tojson takes an integer indent");
      st.item_sep = ",";
    }
    if (const Value* sep = param(a, 2, "separators"); sep && sep->is_list() && sep->items().size() == 2 &&
                                                       sep->items()[0].is_string() && sep->items()[1].is_string()) {
      st.item_sep = sep->items()[0].s;
      st.key_sep = sep->items()[1].s;
    }
    st.sort_keys = bool_param(a, 3, "sort_keys", false);
    std::string out = python_json_dumps(v, st, d);
    check_size(out.size());
    return Value::string(std::move(out));
  }
  if (name == "trim") return Value::string(py_strip(to_str(v, d), param(a, 0, "chars"), true, true));
  if (name == "length" || name == "count") {
    if (v.is_string()) return Value::integer(static_cast<std::int64_t>(code_point_count(v.s)));
    if (v.is_list()) return Value::integer(static_cast<std::int64_t>(v.items().size()));
    if (v.is_dict()) return Value::integer(static_cast<std::int64_t>(v.map().items.size()));
    if (v.kind == Kind::Undefined) return Value::integer(0);
    fail("TypeError", "object of type '" + type_name(v) + "' has no len()");
  }
  if (name == "default" || name == "d") {
    const Value* def = param(a, 0, "default_value");
    const bool boolean = bool_param(a, 1, "boolean", false);
    if (v.is_undefined() || (boolean && !truthy(v))) return def ? *def : Value::string("");
    return v;
  }
  if (name == "first" || name == "last") {
    const List items = iterate(v);
    if (items.empty()) return Value::undefined(name == "first" ? "No first item, sequence was empty." : "No last item, sequence was empty.");
    return name == "first" ? items.front() : items.back();
  }
  if (name == "join") {
    const Value* sep = param(a, 0, "d");
    const Value* attr = param(a, 1, "attribute");
    std::string out;
    bool first = true;
    for (const auto& item : iterate(v)) {
      if (!first) out += sep ? to_str(*sep, d) : "";
      first = false;
      out += to_str(attr ? attribute_of(*this, item, to_str(*attr, d)) : item, d);
      check_size(out.size());
    }
    return Value::string(std::move(out));
  }
  if (name == "map") {
    List out;
    if (const Value* attr = a.kw("attribute")) {
      const Value* def = a.kw("default");
      for (const auto& item : iterate(v)) {
        Value x = attribute_of(*this, item, to_str(*attr, d));
        out.push_back(x.is_undefined() && def ? *def : x);
      }
    } else {
      if (a.positional.empty()) return Value::make_list(iterate(v));
      CallArgs rest{{a.positional.begin() + 1, a.positional.end()}, a.keyword};
      const std::string f = to_str(a.positional[0], d);
      for (const auto& item : iterate(v)) {
        CallArgs copy = rest;
        out.push_back(filter(f, item, copy));
      }
    }
    return Value::make_list(std::move(out));
  }
  if (name == "select" || name == "reject" || name == "selectattr" || name == "rejectattr") {
    const bool by_attr = name == "selectattr" || name == "rejectattr";
    const bool keep = name == "select" || name == "selectattr";
    size_t k = 0;
    std::string attr;
    if (by_attr) {
      if (a.positional.empty()) fail("TypeError", name + " needs an attribute name");
      attr = to_str(a.positional[k++], d);
    }
    std::string test_name;
    if (k < a.positional.size()) test_name = to_str(a.positional[k++], d);
    CallArgs test_args{{a.positional.begin() + static_cast<std::ptrdiff_t>(k), a.positional.end()}, a.keyword};
    List out;
    for (const auto& item : iterate(v)) {
      const Value x = by_attr ? attribute_of(*this, item, attr) : item;
      CallArgs copy = test_args;
      const bool pass = test_name.empty() ? truthy(x) : test(test_name, x, copy);
      if (pass == keep) out.push_back(item);
    }
    return Value::make_list(std::move(out));
  }
  if (name == "list") return Value::make_list(iterate(v));
  if (name == "string") return Value::string(to_str(v, d));
  if (name == "safe") return v;
  if (name == "upper") return Value::string(py_upper(to_str(v, d)));
  if (name == "lower") return Value::string(py_lower(to_str(v, d)));
  if (name == "capitalize") return Value::string(py_capitalize(to_str(v, d)));
  if (name == "title") {
    // Jinja2's do_title, not str.title: words start after '-', whitespace or an opening bracket,
    // so "it's" stays "It's".
    std::string out, word;
    const auto flush = [&] {  // item[0].upper() + item[1:].lower(), the rest lowered as a whole
      if (word.empty()) return;
      const auto cps = code_points(word);
      out += py_upper(cps[0]) + py_lower(word.substr(cps[0].size()));
      word.clear();
    };
    for (const auto& cp : code_points(to_str(v, d))) {
      const bool delim = cp == "-" || cp == "(" || cp == "{" || cp == "[" || cp == "<" || py_strip(cp, nullptr, true, true).empty();
      if (!delim) { word += cp; continue; }
      flush();
      out += cp;
    }
    flush();
    return Value::string(std::move(out));
  }
  if (name == "e" || name == "escape") return Value::string(html_escape(to_str(v, d)));
  if (name == "replace") {
    const Value* from = param(a, 0, "old");
    const Value* to = param(a, 1, "new");
    if (!from || !to) fail("TypeError", "replace needs the old and the new text");
    std::string out = py_replace(to_str(v, d), to_str(*from, d), to_str(*to, d), int_param(a, 2, "count", -1));
    check_size(out.size());
    return Value::string(std::move(out));
  }
  if (name == "items") {
    if (v.is_undefined()) return Value::make_list({});
    if (!v.is_dict()) fail("TypeError", "Can only get item pairs from a mapping.");
    List out;
    for (const auto& [k, x] : v.map().items) out.push_back(Value::make_list({Value::string(k), x}, true));
    return Value::make_list(std::move(out));
  }
  if (name == "dictsort") {
    if (!v.is_dict()) fail("TypeError", "You can only sort by either a mapping.");
    const bool cs = bool_param(a, 0, "case_sensitive", false);
    const Value* by = param(a, 1, "by");
    const bool by_value = by && by->is_string() && by->s == "value";
    const bool rev = bool_param(a, 2, "reverse", false);
    std::vector<std::pair<std::string, Value>> pairs = v.map().items;
    const auto key = [&](const std::pair<std::string, Value>& p) {
      Value k = by_value ? p.second : Value::string(p.first);
      if (!cs && k.is_string()) k.s = py_lower(k.s);
      return k;
    };
    std::stable_sort(pairs.begin(), pairs.end(), [&](const auto& x, const auto& y) {
      return rev ? less(key(y), key(x), d) : less(key(x), key(y), d);
    });
    List out;
    for (auto& [k, x] : pairs) out.push_back(Value::make_list({Value::string(k), x}, true));
    return Value::make_list(std::move(out));
  }
  if (name == "int") {
    const std::int64_t def = int_param(a, 0, "default", 0);
    if (v.kind == Kind::Int) return v;
    if (v.kind == Kind::Bool) return Value::integer(v.b);
    if (v.kind == Kind::Float) {
      if (!std::isfinite(v.f) || std::fabs(v.f) >= 9.2e18) return Value::integer(def);
      return Value::integer(static_cast<std::int64_t>(v.f));
    }
    if (v.is_string()) {
      const std::string s = py_strip(v.s, nullptr, true, true);
      char* end = nullptr;
      errno = 0;
      const long long x = std::strtoll(s.c_str(), &end, 10);
      if (!s.empty() && end && *end == 0 && errno == 0) return Value::integer(x);
      const double f = std::strtod(s.c_str(), &end);
      if (!s.empty() && end && *end == 0 && std::isfinite(f) && std::fabs(f) < 9.2e18)
        return Value::integer(static_cast<std::int64_t>(f));
    }
    return Value::integer(def);
  }
  if (name == "float") {
    const Value* def = param(a, 0, "default");
    if (v.kind == Kind::Float) return v;
    if (v.kind == Kind::Int || v.kind == Kind::Bool) return Value::real(static_cast<double>(v.kind == Kind::Int ? v.i : v.b));
    if (v.is_string()) {
      const std::string s = py_strip(v.s, nullptr, true, true);
      char* end = nullptr;
      const double f = std::strtod(s.c_str(), &end);
      if (!s.empty() && end && *end == 0) return Value::real(f);
    }
    return def ? *def : Value::real(0.0);
  }
  if (name == "abs") {
    if (v.kind == Kind::Int) {
      if (v.i == INT64_MIN) fail("OverflowError", "integer overflow (tenx's integers are 64-bit)");
      return Value::integer(v.i < 0 ? -v.i : v.i);
    }
    if (v.kind == Kind::Bool) return Value::integer(v.b);
    if (v.kind == Kind::Float) return Value::real(std::fabs(v.f));
    fail("TypeError", "bad operand type for abs(): '" + type_name(v) + "'");
  }
  if (name == "round") {
    if (!v.is_number()) fail("TypeError", "round needs a number");
    const double x = v.kind == Kind::Float ? v.f : static_cast<double>(v.kind == Kind::Int ? v.i : v.b);
    const Value* method = param(a, 1, "method");
    return py_round(x, std::clamp<std::int64_t>(int_param(a, 0, "precision", 0), -300, 300),
                    method ? to_str(*method, d) : "common");
  }
  if (name == "reverse") {
    if (v.is_string()) {
      auto cps = code_points(v.s);
      std::string out;
      for (auto it = cps.rbegin(); it != cps.rend(); ++it) out += *it;
      return Value::string(std::move(out));
    }
    List items = iterate(v);
    std::reverse(items.begin(), items.end());
    return Value::make_list(std::move(items));
  }
  if (name == "sort" || name == "unique" || name == "min" || name == "max") {
    const bool cs = bool_param(a, name == "sort" ? 1 : 0, "case_sensitive", false);
    const Value* attr = a.kw("attribute");
    const auto key = [&](const Value& item) {
      Value k = attr ? attribute_of(*this, item, to_str(*attr, d)) : item;
      if (!cs && k.is_string()) k.s = py_lower(k.s);
      return k;
    };
    List items = iterate(v);
    if (name == "unique") {
      List out;
      std::vector<Value> seen;
      for (const auto& item : items) {
        const Value k = key(item);
        if (std::none_of(seen.begin(), seen.end(), [&](const Value& s) { return equal(s, k, d); })) {
          seen.push_back(k);
          out.push_back(item);
        }
      }
      return Value::make_list(std::move(out));
    }
    const bool rev = name == "sort" && bool_param(a, 0, "reverse", false);
    std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
      return rev ? less(key(y), key(x), d) : less(key(x), key(y), d);
    });
    if (name == "sort") return Value::make_list(std::move(items));
    if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
    return name == "min" ? items.front() : items.back();
  }
  if (name == "sum") {
    const Value* attr = param(a, 0, "attribute");
    Value total = a.kw("start") ? *a.kw("start") : Value::integer(0);
    for (const auto& item : iterate(v)) total = binary_op(*this, "+", total, attr ? attribute_of(*this, item, to_str(*attr, d)) : item);
    return total;
  }
  if (name == "indent") {
    const Value* w = param(a, 0, "width");
    std::string pad = w && w->is_string() ? w->s : std::string(static_cast<size_t>(std::clamp<std::int64_t>(int_param(a, 0, "width", 4), 0, 256)), ' ');
    const bool first = bool_param(a, 1, "first", false), blank = bool_param(a, 2, "blank", false);
    const std::string s = to_str(v, d);
    std::string out;
    size_t start = 0;
    bool first_line = true;
    for (;;) {
      const size_t nl = s.find('\n', start);
      const std::string line = s.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
      if ((first_line ? first : true) && (blank || !line.empty())) out += pad;
      out += line;
      check_size(out.size());
      if (nl == std::string::npos) break;
      out += '\n';
      start = nl + 1;
      first_line = false;
    }
    return Value::string(std::move(out));
  }
  if (name == "attr") {
    const Value* n = param(a, 0, "name");
    if (!n || !n->is_string()) fail("TypeError", "attr needs a name");
    // Python's getattr, not Jinja2's: a dict key is not an attribute here (only its methods are).
    if (v.is_dict() && v.map().find(n->s) && get_attr(*this, Value::make_dict({}), n->s).is_undefined())
      return Value::undefined("'dict object' has no attribute '" + n->s + "'");
    return get_attr(*this, v, n->s);
  }
  if (name == "wordcount") {
    std::int64_t n = 0;
    bool in_word = false;
    for (unsigned char c : to_str(v, d)) {
      const bool w = std::isalnum(c) || c == '_' || c >= 0x80;
      if (w && !in_word) ++n;
      in_word = w;
    }
    return Value::integer(n);
  }
  fail("TemplateRuntimeError", "No filter named '" + name + "'.");
}

bool is_known_filter(const std::string& name) {
  static const char* const kNames[] = {"abs", "attr", "capitalize", "count", "d", "default", "dictsort", "e", "escape", "first", "float", "indent", "int", "items", "join", "last", "length", "list", "lower", "map", "max", "min", "reject", "rejectattr", "replace", "reverse", "round", "safe", "select", "selectattr", "sort", "string", "sum", "title", "tojson", "trim", "unique", "upper", "wordcount"};
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

}  // namespace tenx::jinja::detail
