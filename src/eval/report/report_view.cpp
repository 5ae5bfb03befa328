// report.json -> ReportView (include/tenx/eval/report/report_view.hpp).
#include "tenx/eval/report/report_view.hpp"

#include <fmt/format.h>

#include <fstream>
#include <limits>
#include <sstream>

#include "tenx/util/error.hpp"
#include "tenx/util/json_fields.hpp"
#include "tenx/util/read_file.hpp"

namespace tenx::eval {
namespace {

// Field access through util's JsonFields (one wording: "report.json: metrics.suites[3].accuracy:
// missing"), with the reads this view needs: paths joined with '.', null read as absent.
struct Reader {
  JsonFields fields;
  using Need = JsonFields::Need;

  [[noreturn]] void fail(const std::string& field, const std::string& problem) const {
    fields.fail_always(field, problem);
  }
  const Json& member(const Json& j, const std::string& path, const char* key) const {
    return *fields.member(j, path, key, Need::required);
  }
  const Json& array(const Json& j, const std::string& path, const char* key) const {
    return *fields.array(j, path, key, Need::required);
  }
  std::string str(const Json& j, const std::string& path, const char* key) const {
    return *fields.string(j, path, key, Need::required);
  }
  double number(const Json& j, const std::string& path, const char* key) const {
    return *fields.number(j, path, key, Need::required);
  }
  // A number that may be absent or null.
  std::optional<double> maybe(const Json& j, const std::string& path, const char* key) const {
    if (!j.is_object()) return std::nullopt;
    return fields.number(j, path, key, Need::nullable);
  }
  std::string maybe_str(const Json& j, const char* key) const {
    if (!j.is_object()) return {};
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  }
  std::vector<double> numbers(const Json& j, const std::string& path, const char* key) const {
    const Json& a = array(j, path, key);
    std::vector<double> out;
    out.reserve(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (a[i].is_boolean()) {
        out.push_back(a[i].get<bool>() ? 1.0 : 0.0);
      } else if (a[i].is_number()) {
        out.push_back(a[i].get<double>());
      } else {
        fail(fields.element(fields.field(path, key), i), JsonFields::wrong_type("a number", a[i]));
      }
    }
    return out;
  }
};

// A count read as a double, cast only when it fits: the cast of a double outside the type's range
// is undefined (found by tests/fuzz/report_fuzz.cpp: "format": 5.6e19).
template <class T>
T whole(const Reader& r, double v, const std::string& field) {
  const double lo = static_cast<double>(std::numeric_limits<T>::min());
  const double hi = static_cast<double>(std::numeric_limits<T>::max()) + 1.0;  // 2^31, 2^63, 2^64
  if (!(v >= lo && v < hi)) r.fail(field, fmt::format("out of range: {:g} not in [{:g}, {:g})", v, lo, hi));
  return static_cast<T>(v);
}

std::optional<ReportEstimate> estimate(const Reader& r, const Json& g, const std::string& path, const char* key) {
  const auto it = g.find(key);
  if (it == g.end() || it->is_null()) return std::nullopt;
  const std::string p = path + "." + key;
  ReportEstimate e;
  e.value = r.number(*it, p, "value");
  e.ci.lower = r.number(*it, p, "lower");
  e.ci.upper = r.number(*it, p, "upper");
  e.n = whole<std::uint64_t>(r, r.maybe(*it, p, "n").value_or(0.0), p + ".n");
  return e;
}

// Per-item arrays: report.json's "items" (docs/report.schema.json), one entry per model × suite.
void read_items(const Reader& r, const Json& report, ReportView& view) {
  const auto it = report.find("items");
  if (it == report.end() || it->is_null()) return;
  if (!it->is_array()) r.fail("items", JsonFields::wrong_type("a list", *it));
  for (std::size_t i = 0; i < it->size(); ++i) {
    const Json& e = (*it)[i];
    const std::string path = fmt::format("items[{}]", i);
    const std::string model = r.str(e, path, "model");
    const std::string suite = r.str(e, path, "suite");
    ReportGroup* g = nullptr;
    for (auto& x : view.groups)
      if (x.model == model && x.suite == suite) g = &x;
    if (!g) r.fail(path, fmt::format("model '{}' × suite '{}' has no metrics", model, suite));
    ReportItems& items = g->per_item;
    const Json& ids = r.array(e, path, "ids");
    for (const Json& id : ids) {
      if (!id.is_string()) r.fail(path + ".ids", "expected strings, holds " + JsonFields::type_name(id));
      items.ids.push_back(id.get<std::string>());
    }
    // Correctness as 0/1 (what accuracy and McNemar count); "score" for reports without it.
    items.score = r.numbers(e, path, e.contains("correct") ? "correct" : "score");
    items.seconds = r.numbers(e, path, "seconds");
    items.flops = r.numbers(e, path, "flops");
    for (const double a : r.numbers(e, path, "applicable")) items.applicable.push_back(a != 0.0);
    const std::size_t n = items.ids.size();
    if (items.score.size() != n || items.seconds.size() != n || items.flops.size() != n ||
        items.applicable.size() != n)
      r.fail(path, fmt::format("per-item arrays differ in length ({} ids)", n));
  }
}

}  // namespace

const ReportGroup* ReportView::group(const std::string& m, const std::string& s) const {
  for (const auto& g : groups)
    if (g.model == m && g.suite == s) return &g;
  return nullptr;
}

const ReportModel* ReportView::model(const std::string& name) const {
  for (const auto& m : models)
    if (m.name == name) return &m;
  return nullptr;
}

ReportView report_view_from_json(const Json& report, const std::string& subject) {
  const Reader r{JsonFields(subject)};
  ReportView view;
  view.subject = subject;
  if (!report.is_object()) r.fail("(top level)", JsonFields::wrong_type("a JSON object", report));
  view.format = whole<int>(r, r.number(report, "", "format"), "format");
  if (view.format < kMinReportFormat || view.format > kReportFormat)
    r.fail("format", fmt::format("is {}, this tenx reads formats {} to {}", view.format, kMinReportFormat, kReportFormat));
  const Json& metrics = r.member(report, "", "metrics");
  view.confidence = r.maybe(metrics, "metrics", "confidence").value_or(0.95);

  const Json& models = r.array(metrics, "metrics", "models");
  for (std::size_t i = 0; i < models.size(); ++i) {
    const Json& m = models[i];
    const std::string path = fmt::format("metrics.models[{}]", i);
    ReportModel rm;
    rm.name = r.str(m, path, "model");
    rm.path = r.maybe_str(m, "path");
    rm.architecture = r.maybe_str(m, "architecture");
    rm.sha256 = r.maybe_str(m, "sha256");
    rm.n_params = whole<std::int64_t>(r, r.maybe(m, path, "n_params").value_or(0), path + ".n_params");
    rm.flops_per_token = r.maybe(m, path, "flops_per_token").value_or(0);
    if (const auto mem = m.find("memory"); mem != m.end() && mem->is_object()) {
      const std::string mp = path + ".memory";
      rm.weight_bytes = whole<std::uint64_t>(r, r.maybe(*mem, mp, "weight_bytes").value_or(0), mp + ".weight_bytes");
      rm.kv_bytes_peak = whole<std::uint64_t>(r, r.maybe(*mem, mp, "kv_bytes_peak").value_or(0), mp + ".kv_bytes_peak");
      rm.working_bytes = whole<std::uint64_t>(r, r.maybe(*mem, mp, "working_bytes").value_or(0), mp + ".working_bytes");
      rm.peak_rss_bytes =
          whole<std::uint64_t>(r, r.maybe(*mem, mp, "peak_rss_bytes").value_or(0), mp + ".peak_rss_bytes");
    }
    if (const auto t = m.find("training"); t != m.end() && t->is_object()) {
      rm.training_flops = r.maybe(*t, path + ".training", "flops");
      rm.training_estimated = t->value("estimated", false);
    }
    if (m.contains("compute_source"))
      rm.sources = "FLOPs " + r.maybe_str(m, "compute_source") + "; latency " + r.maybe_str(m, "latency_source") +
                   "; memory " + r.maybe_str(m, "memory_source");
    view.models.push_back(std::move(rm));
  }

  const Json& suites = r.array(metrics, "metrics", "suites");
  for (std::size_t i = 0; i < suites.size(); ++i) {
    const Json& g = suites[i];
    const std::string path = fmt::format("metrics.suites[{}]", i);
    ReportGroup rg;
    rg.model = r.str(g, path, "model");
    rg.suite = r.str(g, path, "suite");
    if (!view.model(rg.model)) r.fail(path + ".model", fmt::format("'{}' is not in metrics.models", rg.model));
    rg.items = whole<std::uint64_t>(r, r.number(g, path, "items"), path + ".items");
    rg.applicable = whole<std::uint64_t>(r, r.number(g, path, "applicable"), path + ".applicable");
    rg.errors = whole<std::uint64_t>(r, r.maybe(g, path, "errors").value_or(0), path + ".errors");
    rg.accuracy = estimate(r, g, path, "accuracy");
    const Json& c = r.member(g, path, "compute");
    rg.flops_per_item = r.number(c, path + ".compute", "flops_per_item");
    rg.naive_flops_per_item = r.maybe(c, path + ".compute", "naive_flops_per_item").value_or(0);
    rg.tokens_in_per_item = r.maybe(c, path + ".compute", "tokens_in_per_item").value_or(0);
    rg.tokens_out_per_item = r.maybe(c, path + ".compute", "tokens_out_per_item").value_or(0);
    if (const auto l = g.find("latency"); l != g.end() && l->is_object()) {
      const std::string lp = path + ".latency";
      rg.mean_seconds = r.maybe(*l, lp, "mean_seconds");
      rg.p50_seconds = r.maybe(*l, lp, "p50_seconds");
      rg.p90_seconds = r.maybe(*l, lp, "p90_seconds");
      rg.p99_seconds = r.maybe(*l, lp, "p99_seconds");
      rg.items_per_second = r.maybe(*l, lp, "items_per_second");
      rg.ttft_seconds = r.maybe(*l, lp, "mean_time_to_first_token_seconds");
      rg.ms_per_decoded_token = r.maybe(*l, lp, "ms_per_decoded_token");
    }
    bool known = false;
    for (const auto& s : view.suites) known = known || s == rg.suite;
    if (!known) view.suites.push_back(rg.suite);
    view.groups.push_back(std::move(rg));
  }
  read_items(r, report, view);
  if (const auto e = report.find("environment"); e != report.end() && e->is_object()) view.environment = *e;
  if (const auto v = report.find("verdict"); v != report.end()) view.verdict = *v;
  return view;
}

ReportView load_report_view(const std::filesystem::path& path) {
  std::filesystem::path file = path;
  if (std::filesystem::is_directory(file)) file /= "report.json";
  const std::string bytes = read_file(file, "the report");
  Json j;
  try {
    j = Json::parse(bytes);
  } catch (const Json::parse_error& e) {
    throw Error(file.string(), std::string("is not valid JSON: ") + e.what());
  }
  return report_view_from_json(j, file.string());
}

}  // namespace tenx::eval
