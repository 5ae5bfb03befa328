#pragma once
// The suite parsers' field access: util's JsonFields (tenx/util/json_fields.hpp) collecting every
// problem instead of stopping at the first, so `tenx suites validate` can report all of them, with
// JSON-pointer-like paths ("choices/2") as docs/suite-format.md names fields. The parsers pass
// `required` as a bool; this adapter keeps that call shape. The file is named by the loader,
// which places each problem at FILE:LINE.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tenx/suites/suite_io.hpp"
#include "tenx/util/json_fields.hpp"

namespace tenx::suites::detail {

class FieldReader {
 public:
  explicit FieldReader(std::vector<FieldError>& errors)
      : fields_("", errors, JsonFields::Paths::slashed), errors_(errors) {}

  void fail(const std::string& field, const std::string& message) { fields_.fail(field, message); }
  size_t error_count() const { return errors_.size(); }

  static std::string join(const std::string& prefix, const std::string& key) {
    return prefix.empty() ? key : prefix + "/" + key;
  }
  static std::string type_name(const Json& v) { return JsonFields::type_name(v); }

  const Json* member(const Json& obj, const std::string& prefix, const std::string& key, bool required) {
    return fields_.member(obj, prefix, key, need(required));
  }
  std::optional<std::string> string(const Json& obj, const std::string& prefix, const std::string& key,
                                    bool required, bool non_empty = false) {
    return fields_.string(obj, prefix, key, need(required), non_empty);
  }
  std::optional<std::int64_t> integer(const Json& obj, const std::string& prefix, const std::string& key,
                                      bool required, std::int64_t lo, std::int64_t hi) {
    return fields_.integer(obj, prefix, key, need(required), lo, hi);
  }
  std::optional<double> number(const Json& obj, const std::string& prefix, const std::string& key,
                               bool required) {
    return fields_.number(obj, prefix, key, need(required));
  }
  std::optional<bool> boolean(const Json& obj, const std::string& prefix, const std::string& key, bool required) {
    return fields_.boolean(obj, prefix, key, need(required));
  }
  std::optional<std::vector<std::string>> strings(const Json& obj, const std::string& prefix,
                                                  const std::string& key, bool required,
                                                  bool allow_single = false) {
    return fields_.strings(obj, prefix, key, need(required), allow_single);
  }
  const Json* object(const Json& obj, const std::string& prefix, const std::string& key, bool required) {
    return fields_.object(obj, prefix, key, need(required));
  }
  const Json* array(const Json& obj, const std::string& prefix, const std::string& key, bool required) {
    return fields_.array(obj, prefix, key, need(required));
  }
  // Records every key of `obj` that is not in `known` (catches typos such as "choises").
  void no_unknown_keys(const Json& obj, const std::string& prefix, const std::set<std::string>& known) {
    fields_.no_unknown_keys(obj, prefix, known);
  }

 private:
  static JsonFields::Need need(bool required) {
    return required ? JsonFields::Need::required : JsonFields::Need::optional;
  }
  JsonFields fields_;
  std::vector<FieldError>& errors_;
};

}  // namespace tenx::suites::detail
