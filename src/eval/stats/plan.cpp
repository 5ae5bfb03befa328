// The analysis plan file (plan.hpp, docs/plan.schema.json): strict reading, so a typo in a
// pre-registered claim is an error rather than a silently ignored field.
#include "tenx/eval/stats/plan.hpp"

#include <fmt/format.h>

#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "tenx/util/error.hpp"
#include "tenx/util/json_fields.hpp"
#include "tenx/util/read_file.hpp"
#include "tenx/util/sha256.hpp"

namespace tenx::eval {
namespace {

// The plan's fields through util's JsonFields (one wording: "plan.json: margin.relative: missing").
// An absent or null field takes the default.
struct Fields {
  const Json& j;
  const JsonFields& fields;
  std::string path;  // "" or "margin", "compute"
  static constexpr JsonFields::Need kOptional = JsonFields::Need::nullable;

  [[noreturn]] void fail(const std::string& field, const std::string& problem) const {
    fields.fail_always(field, problem);
  }
  const Json* find(const char* key) const {
    const auto it = j.find(key);
    return it == j.end() || it->is_null() ? nullptr : &*it;
  }
  std::string str(const char* key, const std::string& fallback) const {
    return fields.string(j, path, key, kOptional).value_or(fallback);
  }
  std::string one_of(const char* key, const std::string& fallback, std::initializer_list<const char*> allowed) const {
    const std::string v = str(key, fallback);
    std::string list;
    for (const char* a : allowed) {
      if (v == a) return v;
      list += (list.empty() ? "" : ", ") + std::string(a);
    }
    fail(fields.field(path, key), fmt::format("must be one of {}, got '{}'", list, v));
  }
  // A number in the open interval (lo, hi).
  double number(const char* key, double fallback, double lo, double hi) const {
    const std::optional<double> v = fields.number(j, path, key, kOptional);
    if (!v) return fallback;
    if (!(*v > lo && *v < hi)) fail(fields.field(path, key), JsonFields::out_of_open_range(*v, lo, hi));
    return *v;
  }
  std::vector<std::string> strings(const char* key, std::vector<std::string> fallback) const {
    std::optional<std::vector<std::string>> v = fields.strings(j, path, key, kOptional);
    if (!v) return fallback;
    for (std::size_t i = 0; i < v->size(); ++i)
      if ((*v)[i].empty()) fail(fields.element(fields.field(path, key), i), "must not be empty");
    return *v;
  }
  std::int64_t whole(const char* key, std::int64_t fallback, std::int64_t lo,
                     std::int64_t hi = std::numeric_limits<std::int64_t>::max()) const {
    return fields.integer(j, path, key, kOptional, lo, hi).value_or(fallback);
  }
  std::uint64_t seed(const char* key) const {  // the whole uint64 range, as --seed takes it
    return fields.unsigned_integer(j, path, key, kOptional).value_or(0);
  }
};

}  // namespace

Json to_json(const AnalysisPlan& p) {
  Json j;
  j["format"] = kPlanFormat;
  j["kind"] = "tenx-plan";
  j["claim"] = p.claim;
  j["baseline"] = p.baseline;
  j["candidates"] = p.candidates;
  j["suites"] = p.suites;
  j["split"] = p.split;
  j["require_tasks"] = p.require_tasks;
  j["margin"] = {{"type", p.margin_type},
                 {"absolute", p.margin},
                 {"relative", p.margin_relative ? Json(*p.margin_relative) : Json(nullptr)}};
  j["alpha"] = p.alpha;
  j["accuracy"] = p.accuracy;
  j["compute"] = {{"measure", p.compute}, {"min_ratio", p.min_ratio}};
  j["seed"] = p.seed;
  j["limit"] = p.limit;
  j["bootstrap_resamples"] = p.bootstrap_resamples;
  j["protocol"] = p.protocol;
  return j;
}

AnalysisPlan plan_from_json(const Json& j, const std::string& subject) {
  const JsonFields fields(subject);
  if (!j.is_object()) fields.fail_always("(top level)", JsonFields::wrong_type("a JSON object", j));
  fields.no_unknown_keys(j, "",
                         {"format", "kind", "claim", "baseline", "candidates", "suites", "split", "require_tasks",
                          "margin", "alpha", "accuracy", "compute", "seed", "limit", "bootstrap_resamples",
                          "protocol", "$schema"});
  const Fields f{j, fields, ""};
  const Json* format = f.find("format");
  if (!format) f.fail("format", "missing");
  if (!format->is_number_integer()) f.fail("format", JsonFields::wrong_type("an integer", *format));
  if (format->get<std::int64_t>() != kPlanFormat)
    f.fail("format", fmt::format("is {}, this tenx reads plan format {}", format->dump(), kPlanFormat));
  if (f.str("kind", "") != "tenx-plan") f.fail("kind", "must be \"tenx-plan\"");
  AnalysisPlan p;
  p.claim = f.str("claim", "");
  p.baseline = f.str("baseline", "");
  if (p.baseline.empty()) f.fail("baseline", "missing: the baseline model's name");
  p.candidates = f.strings("candidates", {});
  if (p.candidates.empty()) f.fail("candidates", "missing: at least one candidate model's name");
  p.suites = f.strings("suites", {"all"});
  if (p.suites.empty()) f.fail("suites", "must name at least one suite (or \"all\")");
  p.split = f.str("split", "test");
  p.require_tasks = f.strings("require_tasks", {});
  if (const Json* m = f.find("margin")) {
    if (!m->is_object()) f.fail("margin", JsonFields::wrong_type("an object {type, absolute, relative}", *m));
    fields.no_unknown_keys(*m, "margin", {"type", "absolute", "relative"});
    const Fields mf{*m, fields, "margin"};
    p.margin_type = mf.one_of("type", "absolute", {"absolute", "relative"});
    p.margin = mf.number("absolute", 0.02, 0.0, 1.0);
    if (m->contains("relative") && !(*m)["relative"].is_null()) p.margin_relative = mf.number("relative", 0.5, 0.0, 1.0);
    if (p.margin_type == "relative" && !p.margin_relative)
      f.fail("margin.relative", "missing: a relative margin needs the fraction F to keep");
  }
  p.alpha = f.number("alpha", 0.025, 0.0, 0.5);
  p.accuracy = f.one_of("accuracy", "micro", {"micro", "macro"});
  if (const Json* c = f.find("compute")) {
    if (!c->is_object()) f.fail("compute", JsonFields::wrong_type("an object {measure, min_ratio}", *c));
    fields.no_unknown_keys(*c, "compute", {"measure", "min_ratio"});
    const Fields cf{*c, fields, "compute"};
    p.compute = cf.one_of("measure", "flops", {"flops", "params", "latency", "memory", "training"});
    p.min_ratio = cf.number("min_ratio", 10.0, 0.0, 1e30);
  }
  p.seed = f.seed("seed");
  p.limit = f.whole("limit", 0, 0);
  p.bootstrap_resamples = static_cast<int>(f.whole("bootstrap_resamples", 10000, 1, 100000000));
  p.protocol = f.str("protocol", "");
  return p;
}

LoadedPlan load_plan(const std::filesystem::path& file) {
  const std::string bytes = read_file(file, "the analysis plan");
  Json j;
  try {
    j = Json::parse(bytes);
  } catch (const Json::parse_error& e) {
    throw Error(file.string(), std::string("is not valid JSON: ") + e.what());
  }
  return {plan_from_json(j, file.string()), sha256_hex(bytes)};
}

}  // namespace tenx::eval
