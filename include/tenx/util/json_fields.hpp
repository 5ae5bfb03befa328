#pragma once
// One reader of typed JSON fields for every file tenx reads (report.json, run.json and the
// journal, analysis plans, training recipes, suites), with one error wording:
//
//   FILE: FIELD: problem        e.g.  report.json: metrics.suites[3].accuracy: missing
//
// thrown as tenx::Error(FILE, "FIELD: problem"). The problems are worded here once: "missing",
// "expected a string, got an integer", "out of range: 7 not in [1, 4]", "unknown field".
// A collecting reader (what `tenx suites validate` uses) records every problem instead of
// stopping at the first; its reads return nullopt where a thrower would have thrown.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace tenx {

struct FieldProblem {
  std::string field;    // the path, e.g. "metrics.suites[3].accuracy" or "choices/2"
  std::string message;  // the problem, e.g. "missing"
};

class JsonFields {
 public:
  using Json = nlohmann::ordered_json;

  // How a field path is spelled: "a.b[2]" (the default), or JSON-pointer-like "a/b/2" (suites,
  // docs/suite-format.md).
  enum class Paths { dotted, slashed };
  // Whether a field may be left out. nullable: absent or null both mean "not given".
  enum class Need { required, optional, nullable };

  // Throws tenx::Error(file, "FIELD: problem") at the first problem.
  explicit JsonFields(std::string file, Paths paths = Paths::dotted);
  // Records every problem in `collect`.
  JsonFields(std::string file, std::vector<FieldProblem>& collect, Paths paths = Paths::dotted);

  const std::string& file() const { return file_; }
  // Problems recorded so far (collecting reader; always 0 for a thrower).
  std::size_t problem_count() const { return collect_ ? collect_->size() : 0; }

  // The path of a member or an element under `path` ("" is the top level).
  std::string field(const std::string& path, const std::string& key) const;
  std::string element(const std::string& path, std::size_t index) const;

  // Throws (thrower) or records (collector) one problem. A field "" names the whole file.
  void fail(const std::string& field, const std::string& problem) const;
  [[noreturn]] void fail_always(const std::string& field, const std::string& problem) const;

  // The problem words.
  static std::string type_name(const Json& v);  // "an integer", "a string", "null", ...
  static std::string wrong_type(const char* expected, const Json& got);  // "expected X, got Y"
  static std::string out_of_range(std::int64_t x, std::int64_t lo, std::int64_t hi);
  static std::string out_of_range(double x, double lo, double hi);       // [lo, hi]
  static std::string out_of_open_range(double x, double lo, double hi);  // (lo, hi)

  // Every read checks that `obj` is an object (else "expected an object, got ..." on `path`),
  // finds `key` (required and absent: "missing") and checks the type. nullptr / nullopt when
  // absent (or null with Need::nullable) or when a collector recorded a problem.
  const Json* member(const Json& obj, const std::string& path, const std::string& key, Need need) const;
  const Json* object(const Json& obj, const std::string& path, const std::string& key, Need need) const;
  const Json* array(const Json& obj, const std::string& path, const std::string& key, Need need) const;
  std::optional<std::string> string(const Json& obj, const std::string& path, const std::string& key, Need need,
                                    bool non_empty = false) const;
  std::optional<bool> boolean(const Json& obj, const std::string& path, const std::string& key, Need need) const;
  std::optional<std::int64_t> integer(const Json& obj, const std::string& path, const std::string& key, Need need,
                                      std::int64_t lo = std::numeric_limits<std::int64_t>::min(),
                                      std::int64_t hi = std::numeric_limits<std::int64_t>::max()) const;
  // The whole uint64 range (seeds, byte counts).
  std::optional<std::uint64_t> unsigned_integer(const Json& obj, const std::string& path, const std::string& key,
                                                Need need) const;
  std::optional<double> number(const Json& obj, const std::string& path, const std::string& key, Need need,
                               double lo = -std::numeric_limits<double>::infinity(),
                               double hi = std::numeric_limits<double>::infinity()) const;
  // A list of strings; a lone string counts as a list of one when allow_single.
  std::optional<std::vector<std::string>> strings(const Json& obj, const std::string& path, const std::string& key,
                                                  Need need, bool allow_single = false) const;

  // "unknown field" for every key of `obj` not in `known` (a typo must not pass silently).
  void no_unknown_keys(const Json& obj, const std::string& path, const std::set<std::string>& known) const;

 private:
  std::string file_;
  std::vector<FieldProblem>* collect_ = nullptr;
  Paths paths_ = Paths::dotted;
};

}  // namespace tenx
