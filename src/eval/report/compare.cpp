// The CI regression gate between two reports (include/tenx/eval/report/compare.hpp).
#include "tenx/eval/report/compare.hpp"
#include "tenx/eval/report/number_format.hpp"
#include "tenx/eval/report/text_table.hpp"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <unordered_map>

#include "tenx/util/error.hpp"

namespace tenx::eval {
namespace {

double relative_change(double old_v, double new_v) { return old_v > 0.0 ? new_v / old_v - 1.0 : 0.0; }

void check_options(const CompareOptions& o) {
  if (!(o.alpha > 0.0 && o.alpha < 1.0)) throw Error("--alpha", fmt::format("must be in (0, 1), got {}", o.alpha));
  if (!(o.max_accuracy_drop >= 0.0 && o.max_accuracy_drop <= 1.0))
    throw Error("--max-accuracy-drop", "must be between 0 and 100 percentage points");
  for (const auto& [name, v] : {std::pair{"--max-latency-increase", o.max_latency_increase},
                                std::pair{"--max-flops-increase", o.max_flops_increase},
                                std::pair{"--max-memory-increase", o.max_memory_increase}})
    if (!(v >= 0.0) || !std::isfinite(v)) throw Error(name, "must be a percentage >= 0");
}

SuiteChange compare_group(const ReportView& o, const ReportGroup& og, const ReportView& n, const ReportGroup& ng,
                          const CompareOptions& opt) {
  const ReportItems& oi = og.per_item;
  const ReportItems& ni = ng.per_item;
  const std::string what = fmt::format("model '{}' suite '{}'", og.model, og.suite);
  if (oi.ids.empty() && og.items > 0)
    throw Error(o.subject, what + ": no per-item arrays (items); compare needs a report written by this tenx");
  if (ni.ids.empty() && ng.items > 0)
    throw Error(n.subject, what + ": no per-item arrays (items); compare needs a report written by this tenx");
  if (oi.ids.size() != ni.ids.size())
    throw Error(n.subject, fmt::format("{}: {} items, but {} has {}: the reports are not on the same items", what,
                                       ni.ids.size(), o.subject, oi.ids.size()));
  std::unordered_map<std::string, std::size_t> new_index;
  for (std::size_t i = 0; i < ni.ids.size(); ++i) new_index.emplace(ni.ids[i], i);

  SuiteChange c;
  c.model = og.model;
  c.suite = og.suite;
  std::vector<double> old_score, new_score, old_sec, new_sec;
  double old_flops = 0.0, new_flops = 0.0;
  for (std::size_t i = 0; i < oi.ids.size(); ++i) {
    const auto it = new_index.find(oi.ids[i]);
    if (it == new_index.end())
      throw Error(n.subject, fmt::format("{}: item '{}' of {} is missing: the reports are not on the same items",
                                         what, oi.ids[i], o.subject));
    const std::size_t j = it->second;
    if (!oi.applicable[i] || !ni.applicable[j]) continue;
    for (const auto& [score, subject] : {std::pair{oi.score[i], &o.subject}, std::pair{ni.score[j], &n.subject}})
      if (score != 0.0 && score != 1.0)
        throw Error(*subject, fmt::format("{}: item '{}' has score {}; McNemar needs 0/1 scores", what, oi.ids[i],
                                          score));
    old_score.push_back(oi.score[i]);
    new_score.push_back(ni.score[j]);
    old_sec.push_back(oi.seconds[i]);
    new_sec.push_back(ni.seconds[j]);
    old_flops += oi.flops[i];
    new_flops += ni.flops[j];
  }
  c.items = old_score.size();
  if (c.items == 0) return c;  // nothing applicable in both (e.g. images without a projector)

  c.table = paired_table(new_score, old_score);  // first = new, second = old
  c.new_accuracy = c.table.candidate_accuracy();
  c.old_accuracy = c.table.baseline_accuracy();
  c.mcnemar_p = mcnemar_exact_p(c.table.b, c.table.c);
  // A drop beyond the threshold (with a little slack for the rounding of (b - c) / n).
  c.accuracy_regression = c.new_accuracy - c.old_accuracy < -opt.max_accuracy_drop - 1e-12 && c.mcnemar_p < opt.alpha;

  c.old_p50_seconds = percentile(old_sec, 50.0);
  c.new_p50_seconds = percentile(new_sec, 50.0);
  c.latency_change = relative_change(c.old_p50_seconds, c.new_p50_seconds);
  c.mann_whitney_p = mann_whitney_u(new_sec, old_sec).p_value;
  c.latency_regression = c.latency_change > opt.max_latency_increase && c.mann_whitney_p < opt.alpha;

  const double items = static_cast<double>(c.items);
  c.old_flops = old_flops / items;
  c.new_flops = new_flops / items;
  c.flops_change = relative_change(c.old_flops, c.new_flops);
  c.flops_regression = c.flops_change > opt.max_flops_increase + 1e-12;
  return c;
}

// The printed forms are the shared ones (number_format.hpp).
using numfmt::millis;
std::string pct_points(double d) { return numfmt::points_signed1(d); }
std::string pct_change(double r) { return numfmt::change_signed1(r); }
std::string pvalue(double p) { return numfmt::p_value_sci(p); }
std::string si_value(double v) { return numfmt::si3_tight(v); }
std::string mark(bool bad) { return bad ? " ❌" : ""; }

}  // namespace

std::size_t Comparison::regressions() const {
  std::size_t n = 0;
  for (const auto& s : suites)
    n += static_cast<std::size_t>(s.accuracy_regression) + static_cast<std::size_t>(s.latency_regression) +
         static_cast<std::size_t>(s.flops_regression);
  for (const auto& m : memory) n += static_cast<std::size_t>(m.regression);
  return n;
}

namespace {

// (candidate, suite) -> (verdict, informative) of one report's verdict; suite "" is the overall.
std::map<std::pair<std::string, std::string>, std::pair<std::string, std::string>> verdicts_of(const Json& v) {
  std::map<std::pair<std::string, std::string>, std::pair<std::string, std::string>> out;
  if (!v.is_object() || !v.contains("comparisons") || !v["comparisons"].is_array()) return out;
  for (const Json& c : v["comparisons"]) {
    const std::string cand = c.value("candidate", std::string());
    out[{cand, ""}] = {c.value("verdict", std::string()), ""};
    if (!c.contains("suites") || !c["suites"].is_array()) continue;
    for (const Json& s : c["suites"]) {
      const auto inf = s.find("informative");
      out[{cand, s.value("suite", std::string())}] = {
          s.value("verdict", std::string()),
          inf == s.end() || !inf->is_boolean() ? "" : (inf->get<bool>() ? "yes" : "no")};
    }
  }
  return out;
}

std::vector<VerdictChange> verdict_changes(const ReportView& o, const ReportView& n) {
  const auto ov = verdicts_of(o.verdict), nv = verdicts_of(n.verdict);
  std::map<std::pair<std::string, std::string>, VerdictChange> all;
  auto add = [&all](const auto& verdicts, bool is_new) {
    for (const auto& [k, v] : verdicts) {
      VerdictChange& c = all[k];
      c.candidate = k.first;
      c.suite = k.second;
      (is_new ? c.new_verdict : c.old_verdict) = v.first;
      (is_new ? c.new_informative : c.old_informative) = v.second;
    }
  };
  add(ov, false);
  add(nv, true);
  std::vector<VerdictChange> out;
  for (auto& [k, c] : all) out.push_back(std::move(c));
  return out;
}

}  // namespace

Comparison compare_reports(const ReportView& o, const ReportView& n, const CompareOptions& options) {
  check_options(options);
  Comparison c;
  c.old_subject = o.subject;
  c.new_subject = n.subject;
  c.options = options;
  c.old_format = o.format;
  c.new_format = n.format;
  c.verdicts = verdict_changes(o, n);
  for (const ReportGroup& og : o.groups)
    if (!n.group(og.model, og.suite))
      throw Error(n.subject, fmt::format("has no model '{}' × suite '{}', which {} has", og.model, og.suite, o.subject));
  for (const ReportGroup& ng : n.groups)
    if (!o.group(ng.model, ng.suite))
      throw Error(n.subject, fmt::format("has model '{}' × suite '{}', which {} has not", ng.model, ng.suite, o.subject));
  for (const ReportGroup& og : o.groups) c.suites.push_back(compare_group(o, og, n, *n.group(og.model, og.suite), options));

  for (const ReportModel& om : o.models) {
    const ReportModel* nm = n.model(om.name);
    if (!nm) throw Error(n.subject, fmt::format("has no model '{}', which {} has", om.name, o.subject));
    MemoryChange m;
    m.model = om.name;
    m.old_bytes = om.weight_bytes + om.kv_bytes_peak + om.working_bytes;
    m.new_bytes = nm->weight_bytes + nm->kv_bytes_peak + nm->working_bytes;
    m.change = relative_change(static_cast<double>(m.old_bytes), static_cast<double>(m.new_bytes));
    m.old_peak_rss = om.peak_rss_bytes;
    m.new_peak_rss = nm->peak_rss_bytes;
    m.regression = m.change > options.max_memory_increase + 1e-12;
    c.memory.push_back(m);
  }
  return c;
}

std::string comparison_markdown(const Comparison& c) {
  const CompareOptions& o = c.options;
  std::string md;
  const std::size_t r = c.regressions();
  md += "### tenx compare\n\n";
  md += r > 0 ? fmt::format("**❌ Regression: {} check{} failed.**\n\n", r, r == 1 ? "" : "s")
              : std::string("**✅ No significant regression.**\n\n");
  md += fmt::format("`{}` → `{}`. A check fails when it is worse beyond its threshold and, for measured "
                    "quantities, significant at α = {}: accuracy drop > {:.1f} points (exact McNemar), median "
                    "latency increase > {:.1f}% (Mann-Whitney U), FLOPs per item increase > {:.1f}% and memory "
                    "increase > {:.1f}% (counted, exact).\n\n",
                    c.old_subject, c.new_subject, o.alpha, 100.0 * o.max_accuracy_drop,
                    100.0 * o.max_latency_increase, 100.0 * o.max_flops_increase, 100.0 * o.max_memory_increase);
  const auto right = [](const char* h) { return TableColumn{h, Align::right}; };
  TextTable suites({{"model"}, {"suite"}, right("items"), right("accuracy old → new"), right("Δ pts"),
                    right("McNemar p"), right("p50 latency old → new"), right("Δ"), right("MWU p"),
                    right("FLOPs/item old → new"), right("Δ")});
  for (const SuiteChange& s : c.suites) {
    if (s.items == 0) {
      suites.add_row({s.model, s.suite, "0", "N/A", "", "", "", "", "", "", ""});
      continue;
    }
    suites.add_row({s.model, s.suite, std::to_string(s.items),
                    fmt::format("{:.1f}% → {:.1f}%", 100.0 * s.old_accuracy, 100.0 * s.new_accuracy),
                    pct_points(s.new_accuracy - s.old_accuracy) + mark(s.accuracy_regression), pvalue(s.mcnemar_p),
                    fmt::format("{} → {} ms", millis(s.old_p50_seconds), millis(s.new_p50_seconds)),
                    pct_change(s.latency_change) + mark(s.latency_regression), pvalue(s.mann_whitney_p),
                    fmt::format("{} → {}", si_value(s.old_flops), si_value(s.new_flops)),
                    pct_change(s.flops_change) + mark(s.flops_regression)});
  }
  md += suites.markdown();
  TextTable memory({{"model"}, right("memory old → new (weights + KV + buffers)"), right("Δ"),
                    right("peak RSS old → new")});
  const auto si_bytes = [](std::uint64_t b) { return si_value(static_cast<double>(b)) + "B"; };
  for (const MemoryChange& m : c.memory)
    memory.add_row({m.model, si_bytes(m.old_bytes) + " → " + si_bytes(m.new_bytes),
                    pct_change(m.change) + mark(m.regression),
                    si_bytes(m.old_peak_rss) + " → " + si_bytes(m.new_peak_rss)});
  md += "\n" + memory.markdown();
  if (!c.verdicts.empty()) {
    // The claims of both reports, side by side (information, not a check).
    md += fmt::format("\n**Verdicts** (report formats {} → {}; informative: the baseline beats its references, "
                      "format 2 only)\n\n",
                      c.old_format, c.new_format);
    auto or_dash = [](const std::string& x) { return x.empty() ? std::string("–") : x; };
    TextTable verdicts({{"candidate"}, {"suite"}, {"verdict old → new"}, {"informative old → new"}});
    for (const VerdictChange& v : c.verdicts)
      verdicts.add_row({v.candidate, v.suite.empty() ? "(overall)" : v.suite,
                        or_dash(v.old_verdict) + " → " + or_dash(v.new_verdict),
                        or_dash(v.old_informative) + " → " + or_dash(v.new_informative)});
    md += verdicts.markdown();
  }
  return md;
}

Json to_json(const Comparison& c) {
  Json j;
  j["old"] = c.old_subject;
  j["new"] = c.new_subject;
  j["options"] = {{"alpha", c.options.alpha},
                  {"max_accuracy_drop", c.options.max_accuracy_drop},
                  {"max_latency_increase", c.options.max_latency_increase},
                  {"max_flops_increase", c.options.max_flops_increase},
                  {"max_memory_increase", c.options.max_memory_increase}};
  j["old_format"] = c.old_format;
  j["new_format"] = c.new_format;
  j["verdicts"] = Json::array();
  for (const VerdictChange& v : c.verdicts)
    j["verdicts"].push_back({{"candidate", v.candidate},
                             {"suite", v.suite.empty() ? Json(nullptr) : Json(v.suite)},
                             {"old_verdict", v.old_verdict.empty() ? Json(nullptr) : Json(v.old_verdict)},
                             {"new_verdict", v.new_verdict.empty() ? Json(nullptr) : Json(v.new_verdict)},
                             {"old_informative", v.old_informative.empty() ? Json(nullptr) : Json(v.old_informative == "yes")},
                             {"new_informative", v.new_informative.empty() ? Json(nullptr) : Json(v.new_informative == "yes")}});
  j["regressions"] = c.regressions();
  j["exit_code"] = c.exit_code();
  j["suites"] = Json::array();
  for (const SuiteChange& s : c.suites) {
    j["suites"].push_back({{"model", s.model},
                           {"suite", s.suite},
                           {"items", s.items},
                           {"old_accuracy", s.old_accuracy},
                           {"new_accuracy", s.new_accuracy},
                           {"accuracy_change", s.new_accuracy - s.old_accuracy},
                           {"only_new_right", s.table.b},
                           {"only_old_right", s.table.c},
                           {"mcnemar_p", s.mcnemar_p},
                           {"accuracy_regression", s.accuracy_regression},
                           {"old_p50_seconds", s.old_p50_seconds},
                           {"new_p50_seconds", s.new_p50_seconds},
                           {"latency_change", s.latency_change},
                           {"mann_whitney_p", s.mann_whitney_p},
                           {"latency_regression", s.latency_regression},
                           {"old_flops_per_item", s.old_flops},
                           {"new_flops_per_item", s.new_flops},
                           {"flops_change", s.flops_change},
                           {"flops_regression", s.flops_regression}});
  }
  j["memory"] = Json::array();
  for (const MemoryChange& m : c.memory)
    j["memory"].push_back({{"model", m.model},
                           {"old_bytes", m.old_bytes},
                           {"new_bytes", m.new_bytes},
                           {"change", m.change},
                           {"old_peak_rss_bytes", m.old_peak_rss},
                           {"new_peak_rss_bytes", m.new_peak_rss},
                           {"regression", m.regression}});
  return j;
}

}  // namespace tenx::eval
