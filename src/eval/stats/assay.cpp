// Assay sensitivity (assay.hpp, docs/statistics.md): the baseline against the trivial references
// and the blind controls, per suite and per task.
#include "tenx/eval/stats/assay.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "tenx/suites/suite_io.hpp"
#include "tenx/util/error.hpp"

namespace tenx::eval {
namespace {

constexpr const char* kBlindTask = "_blind";
constexpr const char* kBlindId = "-blind";

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() > tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

bool binary(std::span<const double> x) {
  return std::all_of(x.begin(), x.end(), [](double y) { return y == 0.0 || y == 1.0; });
}

// Standard error of mean(d) when items are drawn within strata of fixed size (the stratified
// bootstrap's design): SE^2 = sum_t (n_t / n)^2 s_t^2 / n_t, s_t^2 the sample variance in t.
double stratified_standard_error(std::span<const double> d, std::span<const std::string> strata) {
  if (strata.empty()) return d.size() > 1 ? standard_error(d) : 0.0;
  std::map<std::string, std::vector<double>> by;
  for (std::size_t i = 0; i < d.size(); ++i) by[strata[i]].push_back(d[i]);
  const double n = static_cast<double>(d.size());
  double var = 0.0;
  for (const auto& [t, v] : by) {
    const double nt = static_cast<double>(v.size());
    const double s = v.size() > 1 ? sample_stddev(v) : 0.0;
    var += (nt / n) * (nt / n) * s * s / nt;
  }
  return std::sqrt(var);
}

std::string fixed3(double x) { return fmt::format("{:.3f}", x); }

std::string signed3(double x) {
  if (std::abs(x) < 0.0005) return "0.000";
  return fmt::format("{}{:.3f}", x < 0 ? "\u2212" : "+", std::abs(x));
}

}  // namespace

ReferenceTable load_references(const RunManifest& manifest) {
  ReferenceTable table;
  for (const SuiteRef& s : manifest.suites) {
    suites::SuiteInfo info;
    try {
      info = suites::load_suite_info(s.path);
    } catch (const Error& e) {
      throw Error((std::filesystem::path(s.path) / "suite.json").string(),
                  fmt::format("the trivial references of suite '{}' (chance, majority) are needed for the "
                              "assay-sensitivity test: {}",
                              s.name, e.what()));
    }
    auto& tasks = table[s.name];
    for (const suites::TaskInfo& t : info.tasks) {
      TaskReferences r;
      r.chance = t.chance;
      for (const suites::Reference& ref : t.references)
        if (ref.name.find("majority") != std::string::npos && ref.total > 0) r.scores.emplace_back(ref.name, ref.score());
      tasks[t.name] = std::move(r);
    }
  }
  return table;
}

double reference_score(const ItemRecord& r, const ReferenceTable& refs, std::string* name) {
  double best = 0.0;
  std::string best_name = "chance";
  const TaskReferences* task = nullptr;
  if (const auto s = refs.find(r.suite); s != refs.end())
    if (const auto t = s->second.find(r.task); t != s->second.end()) task = &t->second;
  const std::size_t k = !r.loglik.empty() ? r.loglik.size() : r.choice_bytes.size();
  if (r.type == "choice" && k > 0) {
    best = 1.0 / static_cast<double>(k);  // the item's own number of choices
  } else if (task) {
    best = task->chance;
  }
  if (task)
    for (const auto& [n, score] : task->scores)
      if (score > best) {
        best = score;
        best_name = n;
      }
  if (name) *name = best_name;
  return best;
}

std::string control_twin_id(const ItemRecord& r) {
  if (!ends_with(r.task, kBlindTask) || !ends_with(r.item, kBlindId)) return {};
  return r.item.substr(0, r.item.size() - std::string(kBlindId).size());
}

AssayTest assay_test(std::string against, std::span<const double> baseline, std::span<const double> reference,
                     bool reference_binary_paired, std::span<const std::string> strata,
                     const BootstrapOptions& options, double margin) {
  if (baseline.empty()) throw Error(against, "no items to test the baseline on");
  if (baseline.size() != reference.size()) throw Error(against, "baseline and reference lengths differ");
  AssayTest t;
  t.against = std::move(against);
  t.items = baseline.size();
  t.baseline = mean(baseline);
  t.reference = mean(reference);
  t.alpha = (1.0 - options.confidence) / 2.0;
  t.margin = margin;
  const BootstrapResult boot = paired_bootstrap_difference(baseline, reference, options, strata);
  t.ci = boot.interval;
  t.method = strata.empty() ? "paired bootstrap" : "paired bootstrap stratified by task";
  const double n = static_cast<double>(baseline.size());
  if (reference_binary_paired && binary(baseline) && binary(reference)) {
    // Image (baseline) against the blind twin (reference): a paired table of two 0/1 scores.
    const PairedTable table = paired_table(baseline, reference);
    const Interval nc = newcombe_paired_interval(table, options.confidence);
    t.ci = {std::min(t.ci.lower, nc.lower), std::max(t.ci.upper, nc.upper)};
    // One-sided exact McNemar: P(X >= b) = P(X <= c), X ~ Bin(b + c, 1/2).
    t.p_value = table.b + table.c == 0 ? 1.0 : std::exp(log_binomial_half_cdf(table.c, table.b + table.c));
    t.method += "; hull with Newcombe's paired interval; one-sided exact McNemar";
  } else if (!reference_binary_paired && binary(baseline)) {
    // The reference is a known constant per item: Wilson's interval of the baseline's accuracy,
    // shifted by the mean reference, and the score test of H0: accuracy_i = reference_i.
    double correct = 0.0, var0 = 0.0;
    for (std::size_t i = 0; i < baseline.size(); ++i) {
      correct += baseline[i];
      var0 += reference[i] * (1.0 - reference[i]);
    }
    const Interval w = wilson_interval(static_cast<std::uint64_t>(correct), baseline.size(), options.confidence);
    t.ci = {std::min(t.ci.lower, w.lower - t.reference), std::max(t.ci.upper, w.upper - t.reference)};
    const double se0 = std::sqrt(var0) / n;
    t.p_value = se0 > 0.0 ? 1.0 - normal_cdf(t.gain() / se0) : (t.gain() > 0.0 ? 0.0 : 1.0);
    t.method += "; hull with Wilson's interval minus the reference; one-sided score test";
  } else {
    std::vector<double> d(baseline.size());
    for (std::size_t i = 0; i < d.size(); ++i) d[i] = baseline[i] - reference[i];
    const double se = stratified_standard_error(d, strata);
    t.p_value = se > 0.0 ? 1.0 - normal_cdf(t.gain() / se) : (t.gain() > 0.0 ? 0.0 : 1.0);
    t.method += "; one-sided normal test with the stratified standard error";
  }
  t.passed = t.p_value < t.alpha && t.ci.lower >= margin;
  return t;
}

std::string assay_sentence(const AssayTest& t) {
  const std::string level = fmt::format("{:g}%", std::round((1.0 - 2.0 * t.alpha) * 1000.0) / 10.0);
  const std::string what = t.against == "blind controls"
                               ? std::string("its own score on the blind controls (the same questions without the image)")
                               : fmt::format("the trivial references ({})", t.references);
  const std::string figures =
      fmt::format("{} vs {} on the same {} items (gain {}, {} CI [{}, {}], one-sided p {})", fixed3(t.baseline),
                  fixed3(t.reference), t.items, signed3(t.gain()), level, signed3(t.ci.lower), signed3(t.ci.upper),
                  t.p_value < 0.0001 ? std::string("<0.0001") : fmt::format("{:.4f}", t.p_value));
  if (t.passed) return fmt::format("the baseline beats {}: {}", what, figures);
  std::string why;
  if (t.gain() <= 0.0)
    why = "it is not above them";
  else if (t.p_value >= t.alpha)
    why = fmt::format("the gain is not significant at alpha {:g}", t.alpha);
  else
    why = fmt::format("the lower bound is {} short of the {:g} margin", fixed3(t.margin - t.ci.lower), t.margin);
  return fmt::format("the baseline does not beat {}: {}; {}", what, figures, why);
}

}  // namespace tenx::eval
