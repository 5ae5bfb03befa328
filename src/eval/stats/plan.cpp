// The analysis plan file (plan.hpp, docs/plan.schema.json): strict reading, so a typo in a
// pre-registered claim is an error rather than a silently ignored field.
#include "tenx/eval/stats/plan.hpp"

#include <fmt/format.h>

#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "tenx/util/error.hpp"
#include "tenx/util/read_file.hpp"
#include "tenx/util/sha256.hpp"

namespace tenx::eval {
namespace {

struct Fields {
  const Json& j;
  const std::string& subject;

  [[noreturn]] void fail(const std::string& field, const std::string& problem) const {
    throw Error(subject, field + ": " + problem);
  }
  const Json* find(const char* key) const {
    const auto it = j.find(key);
    return it == j.end() || it->is_null() ? nullptr : &*it;
  }
  std::string str(const char* key, const std::string& fallback) const {
    const Json* v = find(key);
    if (!v) return fallback;
    if (!v->is_string()) fail(key, "must be a string");
    return v->get<std::string>();
  }
  std::string one_of(const char* key, const std::string& fallback, std::initializer_list<const char*> allowed) const {
    const std::string v = str(key, fallback);
    std::string list;
    for (const char* a : allowed) {
      if (v == a) return v;
      list += (list.empty() ? "" : ", ") + std::string(a);
    }
    fail(key, fmt::format("must be one of {}, got '{}'", list, v));
  }
  double number(const Json& from, const std::string& field, const char* key, double fallback, double lo,
                double hi) const {
    const auto it = from.find(key);
    if (it == from.end() || it->is_null()) return fallback;
    if (!it->is_number()) fail(field, "must be a number");
    const double v = it->get<double>();
    if (!(v > lo && v < hi)) fail(field, fmt::format("must be in ({:g}, {:g}), got {:g}", lo, hi, v));
    return v;
  }
  std::vector<std::string> strings(const char* key, std::vector<std::string> fallback) const {
    const Json* v = find(key);
    if (!v) return fallback;
    if (!v->is_array()) fail(key, "must be an array of strings");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < v->size(); ++i) {
      if (!(*v)[i].is_string() || (*v)[i].get<std::string>().empty())
        fail(fmt::format("{}[{}]", key, i), "must be a non-empty string");
      out.push_back((*v)[i].get<std::string>());
    }
    return out;
  }
  std::int64_t whole(const char* key, std::int64_t fallback, std::int64_t lo,
                     std::int64_t hi = std::numeric_limits<std::int64_t>::max()) const {
    const Json* v = find(key);
    if (!v) return fallback;
    if (!v->is_number_integer() || (v->is_number_unsigned() && v->get<std::uint64_t>() > std::uint64_t(hi)) ||
        v->get<std::int64_t>() < lo || v->get<std::int64_t>() > hi)
      fail(key, fmt::format("must be an integer >= {}{}", lo,
                            hi == std::numeric_limits<std::int64_t>::max() ? "" : fmt::format(" and <= {}", hi)));
    return v->get<std::int64_t>();
  }
  std::uint64_t seed(const char* key) const {  // the whole uint64 range, as --seed takes it
    const Json* v = find(key);
    if (!v) return 0;
    if (v->is_number_unsigned()) return v->get<std::uint64_t>();
    if (!v->is_number_integer() || v->get<std::int64_t>() < 0) fail(key, "must be an integer >= 0");
    return static_cast<std::uint64_t>(v->get<std::int64_t>());
  }
};

void check_known(const Json& j, const std::string& subject, const std::string& where,
                 const std::set<std::string>& known) {
  for (const auto& [k, v] : j.items())
    if (!known.count(k)) throw Error(subject, fmt::format("{}{}: unknown field", where, k));
}

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
  if (!j.is_object()) throw Error(subject, "(top level): is not a JSON object");
  check_known(j, subject, "",
              {"format", "kind", "claim", "baseline", "candidates", "suites", "split", "require_tasks", "margin",
               "alpha", "accuracy", "compute", "seed", "limit", "bootstrap_resamples", "protocol", "$schema"});
  const Fields f{j, subject};
  const Json* format = f.find("format");
  if (!format || !format->is_number_integer()) f.fail("format", "missing or not an integer");
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
    if (!m->is_object()) f.fail("margin", "must be an object {type, absolute, relative}");
    check_known(*m, subject, "margin.", {"type", "absolute", "relative"});
    const Fields mf{*m, subject};
    p.margin_type = mf.one_of("type", "absolute", {"absolute", "relative"});
    p.margin = f.number(*m, "margin.absolute", "absolute", 0.02, 0.0, 1.0);
    if (m->contains("relative") && !(*m)["relative"].is_null())
      p.margin_relative = f.number(*m, "margin.relative", "relative", 0.5, 0.0, 1.0);
    if (p.margin_type == "relative" && !p.margin_relative)
      f.fail("margin.relative", "missing: a relative margin needs the fraction F to keep");
  }
  p.alpha = f.number(j, "alpha", "alpha", 0.025, 0.0, 0.5);
  p.accuracy = f.one_of("accuracy", "micro", {"micro", "macro"});
  if (const Json* c = f.find("compute")) {
    if (!c->is_object()) f.fail("compute", "must be an object {measure, min_ratio}");
    check_known(*c, subject, "compute.", {"measure", "min_ratio"});
    const Fields cf{*c, subject};
    try {
      p.compute = cf.one_of("measure", "flops", {"flops", "params", "latency", "memory", "training"});
    } catch (const Error&) {
      f.fail("compute.measure", "must be one of flops, params, latency, memory, training");
    }
    p.min_ratio = f.number(*c, "compute.min_ratio", "min_ratio", 10.0, 0.0, 1e30);
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
