// Attribute and item access as Jinja2's sandboxed environment resolves them, and the str / dict
// methods chat templates call (x.strip(), x.split('.'), d.items(), d.get(k, default)). A
// missing attribute is an undefined value whose hint is Jinja2's ("'list object' has no attribute
// 'startswith'"), raised only when the value is used, as Jinja2 does.
#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "jinja_eval.hpp"

namespace tenx::jinja::detail {
namespace {

bool is_py_space(const std::string& cp) {
  if (cp.size() == 1) {
    const unsigned char c = static_cast<unsigned char>(cp[0]);
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
  }
  static const char* const kSpaces[] = {"\u0085", "\u00a0", "\u1680", "\u2000", "\u2001", "\u2002", "\u2003",
                                        "\u2004", "\u2005", "\u2006", "\u2007", "\u2008", "\u2009", "\u200a",
                                        "\u2028", "\u2029", "\u202f", "\u205f", "\u3000"};
  return std::any_of(std::begin(kSpaces), std::end(kSpaces), [&](const char* s) { return cp == s; });
}

const std::string& str_arg(const CallArgs& a, size_t k, const char* method) {
  if (k >= a.positional.size() || !a.positional[k].is_string())
    fail("TypeError", fmt::format("{}() argument {} must be str", method, k + 1));
  return a.positional[k].s;
}

std::vector<std::string> py_split(const std::string& s, const Value* sep, std::int64_t maxsplit) {
  std::vector<std::string> out;
  if (!sep || sep->kind == Kind::None) {
    const auto cps = code_points(s);
    size_t k = 0;
    while (k < cps.size()) {
      while (k < cps.size() && is_py_space(cps[k])) ++k;
      if (k == cps.size()) break;
      if (maxsplit >= 0 && static_cast<std::int64_t>(out.size()) == maxsplit) {
        size_t e = cps.size();  // the rest, without its trailing whitespace
        while (e > k && is_py_space(cps[e - 1])) --e;
        std::string rest;
        for (size_t m = k; m < e; ++m) rest += cps[m];
        out.push_back(rest);
        return out;
      }
      std::string word;
      while (k < cps.size() && !is_py_space(cps[k])) word += cps[k++];
      out.push_back(word);
    }
    return out;
  }
  if (!sep->is_string()) fail("TypeError", "must be str or None, not " + type_name(*sep));
  if (sep->s.empty()) fail("ValueError", "empty separator");
  size_t start = 0;
  for (;;) {
    if (maxsplit >= 0 && static_cast<std::int64_t>(out.size()) == maxsplit) break;
    const size_t at = s.find(sep->s, start);
    if (at == std::string::npos) break;
    out.push_back(s.substr(start, at - start));
    start = at + sep->s.size();
  }
  out.push_back(s.substr(start));
  return out;
}

bool affix_match(const Value& affix, const std::string& s, bool prefix, const char* method) {
  const auto one = [&](const Value& v) {
    if (!v.is_string()) fail("TypeError", fmt::format("{} first arg must be str or a tuple of str, not {}", method, type_name(v)));
    if (v.s.size() > s.size()) return false;
    return prefix ? s.compare(0, v.s.size(), v.s) == 0 : s.compare(s.size() - v.s.size(), v.s.size(), v.s) == 0;
  };
  if (affix.is_list()) return std::any_of(affix.items().begin(), affix.items().end(), one);
  return one(affix);
}

Value str_method(Renderer& r, const std::string& self, const std::string& name) {
  const auto bind = [&](auto fn) {
    return Value::callable("str." + name, [self, fn, &r](CallArgs& a) { return fn(self, a, r); });
  };
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    const bool left = name != "rstrip", right = name != "lstrip";
    return bind([left, right](const std::string& s, CallArgs& a, Renderer&) {
      return Value::string(py_strip(s, a.positional.empty() ? nullptr : &a.positional[0], left, right));
    });
  }
  if (name == "split")
    return bind([](const std::string& s, CallArgs& a, Renderer& rr) {
      const Value* sep = a.positional.size() > 0 ? &a.positional[0] : a.kw("sep");
      const Value* max = a.positional.size() > 1 ? &a.positional[1] : a.kw("maxsplit");
      if (max && max->kind != Kind::Int) fail("TypeError", "maxsplit must be an integer");
      List out;
      for (auto& part : py_split(s, sep, max ? max->i : -1)) out.push_back(Value::string(std::move(part)));
      rr.check_items(out.size());
      return Value::make_list(std::move(out));
    });
  if (name == "startswith" || name == "endswith") {
    const bool prefix = name == "startswith";
    return bind([prefix, name](const std::string& s, CallArgs& a, Renderer&) {
      if (a.positional.empty()) fail("TypeError", name + "() takes at least 1 argument (0 given)");
      return Value::boolean(affix_match(a.positional[0], s, prefix, name.c_str()));
    });
  }
  if (name == "upper") return bind([](const std::string& s, CallArgs&, Renderer&) { return Value::string(py_upper(s)); });
  if (name == "lower") return bind([](const std::string& s, CallArgs&, Renderer&) { return Value::string(py_lower(s)); });
  if (name == "title") return bind([](const std::string& s, CallArgs&, Renderer&) { return Value::string(py_title(s)); });
  if (name == "capitalize")
    return bind([](const std::string& s, CallArgs&, Renderer&) { return Value::string(py_capitalize(s)); });
  if (name == "replace")
    return bind([](const std::string& s, CallArgs& a, Renderer& rr) {
      const Value* count = a.positional.size() > 2 ? &a.positional[2] : a.kw("count");
      std::string out = py_replace(s, str_arg(a, 0, "replace"), str_arg(a, 1, "replace"),
                                   count && count->kind == Kind::Int ? count->i : -1);
      rr.check_size(out.size());
      return Value::string(std::move(out));
    });
  if (name == "find" || name == "count" || name == "index" || name == "rfind")
    return bind([name](const std::string& s, CallArgs& a, Renderer&) {
      const std::string& sub = str_arg(a, 0, name.c_str());
      if (name == "count") {
        if (sub.empty()) return Value::integer(static_cast<std::int64_t>(code_point_count(s) + 1));
        std::int64_t n = 0;
        for (size_t at = s.find(sub); at != std::string::npos; at = s.find(sub, at + sub.size())) ++n;
        return Value::integer(n);
      }
      const size_t at = name == "rfind" ? s.rfind(sub) : s.find(sub);
      if (at == std::string::npos) {
        if (name == "index") fail("ValueError", "substring not found");
        return Value::integer(-1);
      }
      return Value::integer(static_cast<std::int64_t>(code_point_count(s.substr(0, at))));
    });
  if (name == "join")
    return bind([](const std::string& s, CallArgs& a, Renderer& rr) {
      if (a.positional.empty()) fail("TypeError", "join() takes exactly one argument (0 given)");
      std::string out;
      bool first = true;
      for (const auto& item : iterate(a.positional[0])) {
        if (!item.is_string()) fail("TypeError", "sequence item: expected str instance, " + type_name(item) + " found");
        if (!first) out += s;
        first = false;
        out += item.s;
        rr.check_size(out.size());
      }
      return Value::string(std::move(out));
    });
  if (name == "isdigit" || name == "isalpha" || name == "isalnum" || name == "isspace" || name == "isupper" ||
      name == "islower")
    return bind([name](const std::string& s, CallArgs&, Renderer&) {
      if (s.empty()) return Value::boolean(false);
      bool cased = false, ok = true;
      for (unsigned char c : s) {
        const bool digit = c >= '0' && c <= '9', up = c >= 'A' && c <= 'Z', low = c >= 'a' && c <= 'z';
        if (name == "isdigit") ok = ok && digit;
        else if (name == "isalpha") ok = ok && (up || low);
        else if (name == "isalnum") ok = ok && (up || low || digit);
        else if (name == "isspace") ok = ok && (c == ' ' || (c >= '\t' && c <= '\r'));
        else if (name == "isupper") { ok = ok && !low; cased = cased || up; }
        else { ok = ok && !up; cased = cased || low; }
      }
      if (name == "isupper" || name == "islower") ok = ok && cased;
      return Value::boolean(ok);
    });
  return Value::undefined("'str object' has no attribute '" + name + "'");
}

Value dict_method(const Value& self, const std::string& name) {
  if (name == "items" || name == "keys" || name == "values")
    return Value::callable("dict." + name, [self, name](CallArgs&) {
      List out;
      for (const auto& [k, v] : self.map().items) {
        if (name == "items") out.push_back(Value::make_list({Value::string(k), v}, true));
        else if (name == "keys") out.push_back(Value::string(k));
        else out.push_back(v);
      }
      return Value::make_list(std::move(out));
    });
  if (name == "get")
    return Value::callable("dict.get", [self](CallArgs& a) {
      if (a.positional.empty()) fail("TypeError", "get expected at least 1 argument, got 0");
      const Value* found = a.positional[0].is_string() ? self.map().find(a.positional[0].s) : nullptr;
      if (found) return *found;
      return a.positional.size() > 1 ? a.positional[1] : Value::none();
    });
  return Value();
}

std::string attr_hint(const Value& obj, const std::string& name) {
  const std::string type = obj.kind == Kind::Namespace ? "'jinja2.utils.Namespace object'" : object_type_repr(obj);
  return type + " has no attribute '" + name + "'";
}

}  // namespace

std::string py_strip(const std::string& s, const Value* chars, bool left, bool right) {
  const auto cps = code_points(s);
  std::vector<std::string> set;
  const bool whitespace = !chars || chars->kind == Kind::None;
  if (!whitespace) {
    if (!chars->is_string()) fail("TypeError", "strip arg must be None or str");
    set = code_points(chars->s);
  }
  const auto strip_it = [&](const std::string& cp) {
    return whitespace ? is_py_space(cp) : std::find(set.begin(), set.end(), cp) != set.end();
  };
  size_t b = 0, e = cps.size();
  if (left) while (b < e && strip_it(cps[b])) ++b;
  if (right) while (e > b && strip_it(cps[e - 1])) --e;
  std::string out;
  for (size_t k = b; k < e; ++k) out += cps[k];
  return out;
}

std::string py_replace(const std::string& s, const std::string& from, const std::string& to, std::int64_t count) {
  if (from.empty()) {  // Python inserts `to` between every character (and at both ends)
    std::string out;
    std::int64_t n = 0;
    for (const auto& cp : code_points(s)) {
      if (count < 0 || n < count) { out += to; ++n; }
      out += cp;
    }
    if (count < 0 || n < count) out += to;
    return out;
  }
  std::string out;
  size_t start = 0;
  std::int64_t n = 0;
  for (size_t at = s.find(from); at != std::string::npos && (count < 0 || n < count); at = s.find(from, start)) {
    out.append(s, start, at - start);
    out += to;
    start = at + from.size();
    ++n;
  }
  out.append(s, start, std::string::npos);
  return out;
}

Value get_attr(Renderer& r, const Value& obj, const std::string& name) {
  switch (obj.kind) {
    case Kind::Dict: {
      Value m = dict_method(obj, name);
      if (m.kind == Kind::Callable) return m;
      if (const Value* v = obj.map().find(name)) return *v;
      break;
    }
    case Kind::Namespace:
      if (const Value* v = obj.ns->find(name)) return *v;
      break;
    case Kind::String: {
      Value m = str_method(r, obj.s, name);
      if (m.kind == Kind::Callable) return m;
      break;
    }
    default: break;
  }
  return Value::undefined(attr_hint(obj, name));
}

Value get_item(Renderer& r, const Value& obj, const Value& key) {
  if ((obj.is_list() || obj.is_string()) && (key.kind == Kind::Int || key.kind == Kind::Bool)) {
    const std::int64_t k = key.kind == Kind::Bool ? key.b : key.i;
    if (obj.is_list()) {
      const auto n = static_cast<std::int64_t>(obj.items().size());
      const std::int64_t at = k < 0 ? k + n : k;
      if (at >= 0 && at < n) return obj.items()[static_cast<size_t>(at)];
    } else {
      const auto cps = code_points(obj.s);
      const auto n = static_cast<std::int64_t>(cps.size());
      const std::int64_t at = k < 0 ? k + n : k;
      if (at >= 0 && at < n) return Value::string(cps[static_cast<size_t>(at)]);
    }
    return Value::undefined(object_type_repr(obj) + " has no attribute " + std::to_string(k));
  }
  if (obj.is_dict() && key.is_string()) {
    if (const Value* v = obj.map().find(key.s)) return *v;
  }
  // Jinja2's getitem falls back to getattr for a string key (so d['items'] may be d.items).
  if (key.is_string()) return get_attr(r, obj, key.s);
  return Value::undefined(object_type_repr(obj) + " has no attribute " + repr(key, 4));
}

Value slice(const Value& obj, const Value& start, const Value& stop, const Value& step) {
  const auto num = [](const Value& v, const char* what) -> std::optional<std::int64_t> {
    if (v.kind == Kind::None) return std::nullopt;
    if (v.kind == Kind::Int) return v.i;
    if (v.kind == Kind::Bool) return v.b;
    if (v.is_undefined()) fail_undefined(v);
    fail("TypeError", std::string("slice ") + what + " must be an integer or None");
  };
  List items;
  std::vector<std::string> cps;
  if (obj.is_list()) items = obj.items();
  else if (obj.is_string()) cps = code_points(obj.s);
  else fail("TypeError", "'" + type_name(obj) + "' object is not subscriptable");
  const auto len = static_cast<std::int64_t>(obj.is_list() ? items.size() : cps.size());
  const std::int64_t st = num(step, "step").value_or(1);
  if (st == 0) fail("ValueError", "slice step cannot be zero");
  // CPython's PySlice_AdjustIndices.
  const auto adjust = [&](std::optional<std::int64_t> v, std::int64_t def) {
    if (!v) return def;
    std::int64_t x = *v;
    if (x < 0) {
      x += len;
      if (x < 0) x = st < 0 ? -1 : 0;
    } else if (x >= len) {
      x = st < 0 ? len - 1 : len;
    }
    return x;
  };
  const std::int64_t b = adjust(num(start, "start"), st < 0 ? len - 1 : 0);
  const std::int64_t e = adjust(num(stop, "stop"), st < 0 ? -1 : len);
  List out_items;
  std::string out_str;
  for (std::int64_t k = b; st > 0 ? k < e : k > e; k += st) {
    if (obj.is_list()) out_items.push_back(items[static_cast<size_t>(k)]);
    else out_str += cps[static_cast<size_t>(k)];
    if ((st > 0 && k > INT64_MAX - st) || (st < 0 && k < INT64_MIN - st)) break;
  }
  if (obj.is_list()) return Value::make_list(std::move(out_items), obj.tuple);
  return Value::string(std::move(out_str));
}

List iterate(const Value& v) {
  switch (v.kind) {
    case Kind::Undefined: return {};
    case Kind::List: return v.items();
    case Kind::Dict: {
      List keys;
      for (const auto& kv : v.map().items) keys.push_back(Value::string(kv.first));
      return keys;
    }
    case Kind::String: {
      List chars;
      for (auto& cp : code_points(v.s)) chars.push_back(Value::string(std::move(cp)));
      return chars;
    }
    default: fail("TypeError", "'" + type_name(v) + "' object is not iterable");
  }
}

}  // namespace tenx::jinja::detail
