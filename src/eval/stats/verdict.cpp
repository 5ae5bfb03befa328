// Non-inferiority per suite, compute ratio, and the intersection-union overall verdict
// (see verdict.hpp and docs/statistics.md).
#include "tenx/eval/stats/verdict.hpp"

#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "tenx/util/error.hpp"

namespace tenx::eval {
namespace {

// Signed numbers read better with a real minus sign and an explicit plus: "−0.018", "+0.005".
std::string signed_fixed(double x, int decimals = 3) {
  const double rounded = std::round(std::abs(x) * std::pow(10.0, decimals));
  const char* sign = rounded == 0.0 ? "" : (x < 0 ? "\u2212" : "+");
  return fmt::format("{}{:.{}f}", sign, std::abs(x), decimals);
}

std::string percent_level(double confidence) {
  return fmt::format("{:g}%", std::round(confidence * 1000.0) / 10.0);
}

std::string evidence_phrase(const SuiteEvidence& e) {
  return fmt::format("accuracy {:.3f} vs {:.3f} (difference {}, {} CI [{}, {}])",
                     e.candidate_accuracy, e.baseline_accuracy, signed_fixed(e.difference()),
                     percent_level(e.confidence), signed_fixed(e.difference_ci.lower),
                     signed_fixed(e.difference_ci.upper));
}

}  // namespace

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::supported: return "SUPPORTED";
    case Verdict::not_supported: return "NOT_SUPPORTED";
    case Verdict::inconclusive: return "INCONCLUSIVE";
    case Verdict::uninformative: return "UNINFORMATIVE";
  }
  return "INCONCLUSIVE";
}

int exit_code(Verdict v) {
  switch (v) {
    case Verdict::supported: return 0;
    case Verdict::not_supported: return 3;
    case Verdict::inconclusive: return 4;
    case Verdict::uninformative: return 5;
  }
  return 4;
}

SuiteEvidence evidence_from_table(std::string suite, const PairedTable& table,
                                  double confidence) {
  if (table.n() == 0) throw Error(suite, "no items scored by both models");
  SuiteEvidence e;
  e.suite = std::move(suite);
  e.items = table.n();
  e.candidate_accuracy = table.candidate_accuracy();
  e.baseline_accuracy = table.baseline_accuracy();
  e.difference_ci = newcombe_paired_interval(table, confidence);
  e.confidence = confidence;
  const double n = static_cast<double>(table.n());
  if (table.b + table.c == 0) {
    e.candidate_only = e.baseline_only = 1.5 / n;  // rule of three: 3/n discordant
  } else {
    e.candidate_only = static_cast<double>(table.b) / n;
    e.baseline_only = static_cast<double>(table.c) / n;
  }
  return e;
}

SuiteEvidence evidence_from_scores(std::string suite, std::span<const double> candidate,
                                   std::span<const double> baseline,
                                   const BootstrapOptions& options,
                                   std::span<const std::string> strata) {
  if (candidate.empty()) throw Error(suite, "no items scored by both models");
  const BootstrapResult boot = paired_bootstrap_difference(candidate, baseline, options, strata);
  SuiteEvidence e;
  e.suite = std::move(suite);
  e.items = candidate.size();
  e.candidate_accuracy = mean(candidate);
  e.baseline_accuracy = mean(baseline);
  e.difference_ci = boot.interval;
  e.confidence = options.confidence;
  std::uint64_t higher = 0, lower = 0;
  for (std::size_t i = 0; i < candidate.size(); ++i) {
    higher += candidate[i] > baseline[i];
    lower += candidate[i] < baseline[i];
  }
  const double n = static_cast<double>(candidate.size());
  if (higher + lower == 0) {
    e.candidate_only = e.baseline_only = 1.5 / n;  // rule of three, as for tables
  } else {
    e.candidate_only = static_cast<double>(higher) / n;
    e.baseline_only = static_cast<double>(lower) / n;
  }
  return e;
}

std::optional<std::uint64_t> items_needed(const SuiteEvidence& e, double margin,
                                          const SampleSizePlan& plan) {
  if (!(margin > 0.0)) throw Error("margin", fmt::format("must be > 0, got {}", margin));
  if (!(plan.power > 0.0 && plan.power < 1.0))
    throw Error("power", fmt::format("must be in (0, 1), got {}", plan.power));
  const double alpha = plan.alpha > 0.0 ? plan.alpha : (1.0 - e.confidence) / 2.0;
  if (!(alpha > 0.0 && alpha < 0.5))
    throw Error("alpha", fmt::format("must be in (0, 0.5), got {}", alpha));
  const double p10 = e.candidate_only, p01 = e.baseline_only;
  const double d = p10 - p01;
  const double gap = d + margin;
  if (gap <= 0.0) return std::nullopt;
  const double z = normal_quantile(1.0 - alpha) + normal_quantile(plan.power);
  const double variance = std::max(0.0, p10 + p01 - d * d);
  const double n = z * z * variance / (gap * gap);
  return static_cast<std::uint64_t>(std::max(1.0, std::ceil(n - 1e-9)));
}

SuiteVerdict decide_suite(const SuiteEvidence& e, double margin, const SampleSizePlan& plan) {
  if (!(margin > 0.0)) throw Error("margin", fmt::format("must be > 0, got {}", margin));
  if (!(e.difference_ci.lower <= e.difference_ci.upper))
    throw Error(e.suite, "confidence interval has lower bound above upper bound");
  SuiteVerdict v;
  v.evidence = e;
  v.margin = margin;
  v.items_needed = items_needed(e, margin, plan);
  // 3 significant digits: a relative margin ((1 - F) x gain) is rarely a round number.
  const std::string margin_text = fmt::format("{:.3g}", margin);
  const std::string head = fmt::format("{}: {}", e.suite, evidence_phrase(e));
  if (e.difference_ci.lower > -margin) {
    v.verdict = Verdict::supported;
    v.explanation = fmt::format("{} is within the {} margin: non-inferior", head, margin_text);
  } else if (e.difference_ci.upper < -margin) {
    v.verdict = Verdict::not_supported;
    v.explanation = fmt::format("{} lies entirely below \u2212{}: worse than the baseline by "
                                "more than the {} margin",
                                head, margin_text, margin_text);
  } else {
    v.verdict = Verdict::inconclusive;
    if (v.items_needed)
      v.explanation = fmt::format("{} crosses the \u2212{} margin: inconclusive; about {} items "
                                  "would be needed (have {})",
                                  head, margin_text, *v.items_needed, e.items);
    else
      v.explanation = fmt::format("{} crosses the \u2212{} margin: inconclusive; the observed "
                                  "difference is not above \u2212{}, so more items would not "
                                  "show non-inferiority",
                                  head, margin_text, margin_text);
  }
  v.noninferiority = v.verdict;
  return v;
}

void mark_uninformative(SuiteVerdict& v, const std::string& why) {
  v.informative = false;
  v.verdict = Verdict::uninformative;
  v.explanation = fmt::format("{}: UNINFORMATIVE: {} (non-inferiority reading, not used: {})",
                              v.evidence.suite, why, v.explanation);
}

ComputeCheck check_ratio(const ComputeEvidence& c, const std::string& what) {
  auto positive = [](double x) { return std::isfinite(x) && x > 0.0; };
  if (!positive(c.baseline_flops_per_item))
    throw Error("baseline " + what, fmt::format("must be a positive number, got {}", c.baseline_flops_per_item));
  if (!positive(c.candidate_flops_per_item))
    throw Error("candidate " + what, fmt::format("must be a positive number, got {}", c.candidate_flops_per_item));
  if (!positive(c.min_ratio))
    throw Error("min_ratio", fmt::format("must be a positive number, got {}", c.min_ratio));
  ComputeCheck r;
  r.evidence = c;
  r.ratio = c.baseline_flops_per_item / c.candidate_flops_per_item;
  r.holds = r.ratio >= c.min_ratio;
  r.explanation = fmt::format("compute: baseline {:.4g} vs candidate {:.4g} {}, {:.2f}x less, {} the required {:g}x",
                              c.baseline_flops_per_item, c.candidate_flops_per_item, what, r.ratio,
                              r.holds ? "meeting" : "short of", c.min_ratio);
  return r;
}

ComputeCheck check_compute(const ComputeEvidence& c) {
  auto positive = [](double x) { return std::isfinite(x) && x > 0.0; };
  if (!positive(c.baseline_flops_per_item))
    throw Error("baseline_flops_per_item",
                fmt::format("must be a positive number, got {}", c.baseline_flops_per_item));
  if (!positive(c.candidate_flops_per_item))
    throw Error("candidate_flops_per_item",
                fmt::format("must be a positive number, got {}", c.candidate_flops_per_item));
  return check_ratio(c, "FLOPs per item");
}

OverallVerdict decide_overall(std::vector<SuiteVerdict> suites, const ComputeCheck& compute,
                              const std::vector<std::string>& not_applicable) {
  if (suites.empty()) throw Error("verdict", "no suites to decide on");
  OverallVerdict o;
  o.suites = std::move(suites);
  o.compute = compute;
  std::vector<std::string> inferior, undecided, uninformative;
  for (const SuiteVerdict& s : o.suites) {
    // A loss shown is a loss: an uninformative suite where the candidate is shown worse than the
    // baseline by more than the margin still refutes "the same capability".
    if (s.noninferiority == Verdict::not_supported) inferior.push_back(s.evidence.suite);
    if (s.informative && s.noninferiority == Verdict::inconclusive) undecided.push_back(s.evidence.suite);
    if (!s.informative) uninformative.push_back(s.evidence.suite);
  }
  std::vector<std::string> says_nothing = uninformative;
  for (const std::string& n : not_applicable) says_nothing.push_back(n + " (no item both models can take)");
  const std::string also =
      says_nothing.empty() ? std::string()
                           : fmt::format("; the comparison says nothing on {}", fmt::join(says_nothing, ", "));
  if (!compute.holds || !inferior.empty()) {
    o.verdict = Verdict::not_supported;
    std::vector<std::string> parts;
    if (!compute.holds)
      parts.push_back(fmt::format("the compute ratio {:.2f}x is below {:g}x", compute.ratio,
                                  compute.evidence.min_ratio));
    if (!inferior.empty())
      parts.push_back(fmt::format("the candidate is inferior on {}", fmt::join(inferior, ", ")));
    o.explanation = fmt::format("NOT SUPPORTED: {}", fmt::join(parts, "; and "));
  } else if (!undecided.empty()) {
    o.verdict = Verdict::inconclusive;
    o.explanation = fmt::format(
        "INCONCLUSIVE: the compute ratio holds ({:.2f}x) but non-inferiority is not shown on {}{}",
        compute.ratio, fmt::join(undecided, ", "), also);
  } else if (!says_nothing.empty()) {
    o.verdict = Verdict::uninformative;
    o.explanation = fmt::format(
        "UNINFORMATIVE: the comparison says nothing on {}: no claim can rest on a suite where the baseline "
        "does not show the capability (leave a suite out of the claim with --suites)",
        fmt::join(says_nothing, ", "));
  } else {
    o.verdict = Verdict::supported;
    const std::string which = o.suites.size() == 1
                                  ? std::string("the only suite")
                                  : fmt::format("all {} suites", o.suites.size());
    o.explanation =
        fmt::format("SUPPORTED: informative and non-inferior on {} at {:.2f}x less compute (required {:g}x)",
                    which, compute.ratio, compute.evidence.min_ratio);
  }
  return o;
}

}  // namespace tenx::eval
