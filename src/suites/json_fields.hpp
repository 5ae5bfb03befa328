#pragma once
// Typed field access for the suite parsers that records every problem (field path + message)
// instead of stopping at the first, so `tenx suites validate` can report all of them.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tenx/suites/suite_io.hpp"

namespace tenx::suites::detail {

class FieldReader {
 public:
  explicit FieldReader(std::vector<FieldError>& errors) : errors_(errors) {}

  void fail(const std::string& field, const std::string& message) {
    errors_.push_back({field, message});
  }
  size_t error_count() const { return errors_.size(); }

  static std::string join(const std::string& prefix, const std::string& key) {
    return prefix.empty() ? key : prefix + "/" + key;
  }

  // The member, or nullptr (recording "missing" when required).
  const Json* member(const Json& obj, const std::string& prefix, const std::string& key, bool required) {
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required) fail(join(prefix, key), "missing");
      return nullptr;
    }
    return &*it;
  }

  std::optional<std::string> string(const Json& obj, const std::string& prefix, const std::string& key,
                                    bool required, bool non_empty = false) {
    const Json* v = member(obj, prefix, key, required);
    if (!v) return std::nullopt;
    if (!v->is_string()) return wrong(prefix, key, "a string", *v), std::nullopt;
    if (non_empty && v->get_ref<const std::string&>().empty()) {
      fail(join(prefix, key), "must not be empty");
      return std::nullopt;
    }
    return v->get<std::string>();
  }

  std::optional<std::int64_t> integer(const Json& obj, const std::string& prefix, const std::string& key,
                                      bool required, std::int64_t lo, std::int64_t hi) {
    const Json* v = member(obj, prefix, key, required);
    if (!v) return std::nullopt;
    if (!v->is_number_integer()) return wrong(prefix, key, "an integer", *v), std::nullopt;
    std::int64_t x = v->is_number_unsigned() && v->get<std::uint64_t>() > INT64_MAX
                         ? INT64_MAX
                         : v->get<std::int64_t>();
    if (x < lo || x > hi) {
      fail(join(prefix, key), "out of range: " + std::to_string(x) + " not in [" +
                                  std::to_string(lo) + ", " + std::to_string(hi) + "]");
      return std::nullopt;
    }
    return x;
  }

  std::optional<double> number(const Json& obj, const std::string& prefix, const std::string& key,
                               bool required) {
    const Json* v = member(obj, prefix, key, required);
    if (!v) return std::nullopt;
    if (!v->is_number()) return wrong(prefix, key, "a number", *v), std::nullopt;
    return v->get<double>();
  }

  std::optional<bool> boolean(const Json& obj, const std::string& prefix, const std::string& key,
                              bool required) {
    const Json* v = member(obj, prefix, key, required);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) return wrong(prefix, key, "true or false", *v), std::nullopt;
    return v->get<bool>();
  }

  // A list of strings; a single string is accepted when `allow_single`.
  std::optional<std::vector<std::string>> strings(const Json& obj, const std::string& prefix,
                                                  const std::string& key, bool required,
                                                  bool allow_single = false) {
    const Json* v = member(obj, prefix, key, required);
    if (!v) return std::nullopt;
    if (allow_single && v->is_string()) return std::vector<std::string>{v->get<std::string>()};
    if (!v->is_array()) return wrong(prefix, key, "a list of strings", *v), std::nullopt;
    std::vector<std::string> out;
    bool ok = true;
    for (size_t i = 0; i < v->size(); ++i) {
      if (!(*v)[i].is_string()) {
        fail(join(prefix, key) + "/" + std::to_string(i), "expected a string, got " + type_name((*v)[i]));
        ok = false;
      } else {
        out.push_back((*v)[i].get<std::string>());
      }
    }
    if (!ok) return std::nullopt;
    return out;
  }

  const Json* object(const Json& obj, const std::string& prefix, const std::string& key, bool required) {
    const Json* v = member(obj, prefix, key, required);
    if (v && !v->is_object()) {
      wrong(prefix, key, "an object", *v);
      return nullptr;
    }
    return v;
  }

  const Json* array(const Json& obj, const std::string& prefix, const std::string& key, bool required) {
    const Json* v = member(obj, prefix, key, required);
    if (v && !v->is_array()) {
      wrong(prefix, key, "a list", *v);
      return nullptr;
    }
    return v;
  }

  // Records every key of `obj` that is not in `known` (catches typos such as "choises").
  void no_unknown_keys(const Json& obj, const std::string& prefix, const std::set<std::string>& known) {
    for (auto it = obj.begin(); it != obj.end(); ++it)
      if (!known.count(it.key())) fail(join(prefix, it.key()), "unknown field");
  }

  static std::string type_name(const Json& v) {
    if (v.is_number_integer()) return "an integer";
    if (v.is_number_float()) return "a number with a fraction";
    if (v.is_string()) return "a string";
    if (v.is_boolean()) return "a boolean";
    if (v.is_null()) return "null";
    if (v.is_array()) return "a list";
    return "an object";
  }

 private:
  void wrong(const std::string& prefix, const std::string& key, const char* expected, const Json& got) {
    fail(join(prefix, key), std::string("expected ") + expected + ", got " + type_name(got));
  }
  std::vector<FieldError>& errors_;
};

}  // namespace tenx::suites::detail
