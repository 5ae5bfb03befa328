// JsonFields (include/tenx/util/json_fields.hpp): the typed field reader and its one wording.
#include "tenx/util/json_fields.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "tenx/util/error.hpp"

namespace tenx {

JsonFields::JsonFields(std::string file, Paths paths) : file_(std::move(file)), paths_(paths) {}

JsonFields::JsonFields(std::string file, std::vector<FieldProblem>& collect, Paths paths)
    : file_(std::move(file)), collect_(&collect), paths_(paths) {}

std::string JsonFields::field(const std::string& path, const std::string& key) const {
  if (path.empty()) return key;
  return path + (paths_ == Paths::dotted ? "." : "/") + key;
}

std::string JsonFields::element(const std::string& path, std::size_t index) const {
  if (paths_ == Paths::dotted) return fmt::format("{}[{}]", path, index);
  return path.empty() ? std::to_string(index) : fmt::format("{}/{}", path, index);
}

void JsonFields::fail(const std::string& field, const std::string& problem) const {
  if (collect_) {
    collect_->push_back({field, problem});
    return;
  }
  fail_always(field, problem);
}

void JsonFields::fail_always(const std::string& field, const std::string& problem) const {
  throw Error(file_, field.empty() ? problem : field + ": " + problem);
}

std::string JsonFields::type_name(const Json& v) {
  if (v.is_number_integer()) return "an integer";
  if (v.is_number_float()) return "a number with a fraction";
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a boolean";
  if (v.is_null()) return "null";
  if (v.is_array()) return "a list";
  return "an object";
}

std::string JsonFields::wrong_type(const char* expected, const Json& got) {
  return std::string("expected ") + expected + ", got " + type_name(got);
}

namespace {
// "out of range: V not in [LO, HI]"; with one bound at the type's limit, only the other is named.
std::string range_problem(const std::string& value, bool above, std::int64_t lo, std::int64_t hi) {
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  if (!above && hi == kMax) return fmt::format("out of range: {} is below {}", value, lo);
  if (above && lo == kMin) return fmt::format("out of range: {} is above {}", value, hi);
  if (above && hi == kMax) return fmt::format("out of range: {} is above {}", value, hi);
  return fmt::format("out of range: {} not in [{}, {}]", value, lo, hi);
}
}  // namespace

std::string JsonFields::out_of_range(std::int64_t x, std::int64_t lo, std::int64_t hi) {
  return range_problem(std::to_string(x), x > hi, lo, hi);
}

std::string JsonFields::out_of_range(double x, double lo, double hi) {
  return fmt::format("out of range: {:g} not in [{:g}, {:g}]", x, lo, hi);
}

std::string JsonFields::out_of_open_range(double x, double lo, double hi) {
  return fmt::format("out of range: {:g} not in ({:g}, {:g})", x, lo, hi);
}

const JsonFields::Json* JsonFields::member(const Json& obj, const std::string& path, const std::string& key,
                                           Need need) const {
  if (!obj.is_object()) {
    fail(path, wrong_type("an object", obj));
    return nullptr;
  }
  const auto it = obj.find(key);
  if (it == obj.end() || (need == Need::nullable && it->is_null())) {
    if (need == Need::required) fail(field(path, key), "missing");
    return nullptr;
  }
  return &*it;
}

const JsonFields::Json* JsonFields::object(const Json& obj, const std::string& path, const std::string& key,
                                           Need need) const {
  const Json* v = member(obj, path, key, need);
  if (v && !v->is_object()) return fail(field(path, key), wrong_type("an object", *v)), nullptr;
  return v;
}

const JsonFields::Json* JsonFields::array(const Json& obj, const std::string& path, const std::string& key,
                                          Need need) const {
  const Json* v = member(obj, path, key, need);
  if (v && !v->is_array()) return fail(field(path, key), wrong_type("a list", *v)), nullptr;
  return v;
}

std::optional<std::string> JsonFields::string(const Json& obj, const std::string& path, const std::string& key,
                                              Need need, bool non_empty) const {
  const Json* v = member(obj, path, key, need);
  if (!v) return std::nullopt;
  if (!v->is_string()) return fail(field(path, key), wrong_type("a string", *v)), std::nullopt;
  if (non_empty && v->get_ref<const std::string&>().empty())
    return fail(field(path, key), "must not be empty"), std::nullopt;
  return v->get<std::string>();
}

std::optional<bool> JsonFields::boolean(const Json& obj, const std::string& path, const std::string& key,
                                        Need need) const {
  const Json* v = member(obj, path, key, need);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) return fail(field(path, key), wrong_type("true or false", *v)), std::nullopt;
  return v->get<bool>();
}

std::optional<std::int64_t> JsonFields::integer(const Json& obj, const std::string& path, const std::string& key,
                                                Need need, std::int64_t lo, std::int64_t hi) const {
  const Json* v = member(obj, path, key, need);
  if (!v) return std::nullopt;
  if (!v->is_number_integer()) return fail(field(path, key), wrong_type("an integer", *v)), std::nullopt;
  // An unsigned value past hi (perhaps past INT64_MAX) is compared and printed unsigned.
  if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(std::max<std::int64_t>(hi, 0)))
    return fail(field(path, key), range_problem(std::to_string(v->get<std::uint64_t>()), true, lo, hi)), std::nullopt;
  const std::int64_t x = v->get<std::int64_t>();
  if (x < lo || x > hi) return fail(field(path, key), out_of_range(x, lo, hi)), std::nullopt;
  return x;
}

std::optional<std::uint64_t> JsonFields::unsigned_integer(const Json& obj, const std::string& path,
                                                          const std::string& key, Need need) const {
  const Json* v = member(obj, path, key, need);
  if (!v) return std::nullopt;
  if (v->is_number_unsigned()) return v->get<std::uint64_t>();
  if (!v->is_number_integer()) return fail(field(path, key), wrong_type("an integer", *v)), std::nullopt;
  const std::int64_t x = v->get<std::int64_t>();
  if (x < 0) return fail(field(path, key), fmt::format("out of range: {} is negative", x)), std::nullopt;
  return static_cast<std::uint64_t>(x);
}

std::optional<double> JsonFields::number(const Json& obj, const std::string& path, const std::string& key,
                                         Need need, double lo, double hi) const {
  const Json* v = member(obj, path, key, need);
  if (!v) return std::nullopt;
  if (!v->is_number()) return fail(field(path, key), wrong_type("a number", *v)), std::nullopt;
  const double x = v->get<double>();
  if (!(x >= lo && x <= hi)) return fail(field(path, key), out_of_range(x, lo, hi)), std::nullopt;
  return x;
}

std::optional<std::vector<std::string>> JsonFields::strings(const Json& obj, const std::string& path,
                                                            const std::string& key, Need need,
                                                            bool allow_single) const {
  const Json* v = member(obj, path, key, need);
  if (!v) return std::nullopt;
  if (allow_single && v->is_string()) return std::vector<std::string>{v->get<std::string>()};
  if (!v->is_array()) return fail(field(path, key), wrong_type("a list of strings", *v)), std::nullopt;
  std::vector<std::string> out;
  bool ok = true;
  for (std::size_t i = 0; i < v->size(); ++i) {
    if (!(*v)[i].is_string()) {
      fail(element(field(path, key), i), wrong_type("a string", (*v)[i]));
      ok = false;
    } else {
      out.push_back((*v)[i].get<std::string>());
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

void JsonFields::no_unknown_keys(const Json& obj, const std::string& path, const std::set<std::string>& known) const {
  if (!obj.is_object()) return;
  for (auto it = obj.begin(); it != obj.end(); ++it)
    if (!known.count(it.key())) fail(field(path, it.key()), "unknown field");
}

}  // namespace tenx
