// The verdict as people read it (claim.hpp: verdict_text): one row per suite, the compute ratios,
// the overall line and one sentence per suite. The same rows serve the terminal (aligned text) and
// summary.md (Markdown).
#include <fmt/format.h>

#include <algorithm>
#include <fmt/ranges.h>

#include "tenx/eval/report/claim_report.hpp"
#include "tenx/eval/report/number_format.hpp"
#include "tenx/eval/report/text_table.hpp"

namespace tenx::eval {
namespace {

// The claim's tables through the one table builder (text_table.hpp): the first row is the header.
std::string table(const std::vector<std::vector<std::string>>& rows, bool markdown) {
  std::vector<TableColumn> columns;
  for (const std::string& h : rows.front()) columns.push_back({h});
  TextTable t(std::move(columns));
  for (std::size_t k = 1; k < rows.size(); ++k) t.add_row(rows[k]);
  return markdown ? t.markdown_ruled() : t.ruled();
}

// The printed forms are the shared ones (number_format.hpp).
using numfmt::signed3;
std::string p_value(double p) { return numfmt::p_value4(p); }
std::string ratio_text(const std::optional<double>& r) { return numfmt::ratio2(r); }

std::string reading_text(const MarginReading& r) {
  if (!r.verdict) return "N/A (no gain)";
  return fmt::format("{} (\u03b4 {:.3g})", to_string(*r.verdict), r.margin);
}

std::string lift_rows(const SuiteComparison& s, bool markdown, const std::string& level) {
  if (s.controls.empty()) return {};
  std::vector<std::vector<std::string>> rows = {
      {"model", "task", "image acc", "blind acc", fmt::format("lift [{} CI]", level), "pairs"}};
  for (const ControlLift& l : s.controls) {
    auto acc = [](const std::optional<double>& x) { return x ? fmt::format("{:.3f}", *x) : std::string("N/A"); };
    rows.push_back({l.model, l.task, acc(l.image_accuracy), acc(l.blind_accuracy),
                    l.lift ? fmt::format("{} [{}, {}]", signed3(*l.lift), signed3(l.lift_ci->lower),
                                         signed3(l.lift_ci->upper))
                           : std::string("N/A"),
                    fmt::format("{}", l.pairs)});
  }
  std::string out = markdown ? fmt::format("{}: image items against their blind controls ({} controls, left out "
                                           "of the comparison)\n\n",
                                           s.suite, s.control_items)
                             : fmt::format("  {}: image items against their blind controls ({} controls, left out "
                                           "of the comparison)\n",
                                           s.suite, s.control_items);
  std::string t = table(rows, markdown);
  if (!markdown) {
    std::string indented;
    std::size_t start = 0;
    while (start < t.size()) {
      const std::size_t end = t.find('\n', start);
      indented += "    " + t.substr(start, end - start + 1);
      start = end + 1;
    }
    t = indented;
  }
  return out + t + "\n";
}

}  // namespace

std::string verdict_text(const ClaimVerdict& v, bool markdown) {
  std::string out;
  const std::string level = fmt::format("{:g}%", v.spec.confidence * 100);
  const std::string bullet = markdown ? "- " : "  ";
  for (const CandidateVerdict& c : v.candidates) {
    const std::string margin =
        v.spec.margin_relative ? fmt::format("relative margin F = {:g}", *v.spec.margin_relative)
                               : fmt::format("margin {:g}", v.spec.margin);
    out += markdown ? fmt::format("### {} vs {} ({}, {} accuracy, alpha {:g}, required ratio {:g}x)\n\n",
                                  c.candidate, c.baseline, margin, v.spec.accuracy, (1 - v.spec.confidence) / 2,
                                  v.spec.min_ratio)
                    : fmt::format("{} vs {}  ({}, {} accuracy, alpha {:g}, required ratio {:g}x of {})\n",
                                  c.candidate, c.baseline, margin, v.spec.accuracy, (1 - v.spec.confidence) / 2,
                                  v.spec.min_ratio, v.spec.compute);
    std::vector<std::vector<std::string>> rows = {
        {"suite", "items", c.candidate, c.baseline, fmt::format("difference [{} CI]", level), "McNemar p",
         "baseline gain over refs [CI]", "absolute", fmt::format("relative (F {:g})", v.spec.margin_relative.value_or(0.5)),
         "verdict"}};
    for (const SuiteComparison& s : c.suites) {
      if (!s.applicable) {
        rows.push_back({s.suite, "0", "N/A", "N/A", "N/A", "N/A", "N/A", "N/A", "N/A", "NOT_APPLICABLE"});
        continue;
      }
      const SuiteEvidence& e = s.verdict.evidence;
      std::string verdict(to_string(s.verdict.verdict));
      if (s.verdict.verdict == Verdict::inconclusive && s.verdict.items_needed)
        verdict += fmt::format(" (~{} items needed)", *s.verdict.items_needed);
      const AssayTest* tightest = &s.assay.front();
      for (const AssayTest& t : s.assay)
        if (t.gain() < tightest->gain()) tightest = &t;
      rows.push_back({s.suite, fmt::format("{}", s.items_paired),
                      fmt::format("{:.3f}", e.candidate_accuracy),
                      fmt::format("{:.3f}", e.baseline_accuracy),
                      fmt::format("{} [{}, {}]", signed3(e.difference()), signed3(e.difference_ci.lower),
                                  signed3(e.difference_ci.upper)),
                      p_value(s.mcnemar_p),
                      fmt::format("{} [{}, {}]", signed3(tightest->gain()), signed3(tightest->ci.lower),
                                  signed3(tightest->ci.upper)),
                      reading_text(s.absolute), reading_text(s.relative), verdict});
    }
    out += table(rows, markdown);
    out += "\n";
    const ComputeRatios& r = c.compute;
    out += fmt::format("{}FLOPs per item: {:.4g} vs {:.4g}, ratio {:.2f}x{}\n", bullet,
                       r.flops.evidence.baseline_flops_per_item, r.flops.evidence.candidate_flops_per_item,
                       r.flops.ratio,
                       v.spec.compute == "flops" ? fmt::format(" ({} the required {:g}x)",
                                                               r.flops.holds ? "meets" : "short of",
                                                               r.flops.evidence.min_ratio)
                                                 : std::string());
    if (v.spec.compute != "flops") out += bullet + "the claim's ratio: " + r.claim.explanation + "\n";
    if (!r.sources.empty()) out += fmt::format("{}sources: {}\n", bullet, r.sources);
    if (r.latency && r.latency->ci)
      out += fmt::format("{}latency per item: {:.2f}x [{} CI {:.2f}, {:.2f}]\n", bullet, r.latency->value,
                         level, r.latency->ci->lower, r.latency->ci->upper);
    else
      out += fmt::format("{}latency per item: unknown\n", bullet);
    out += fmt::format("{}active parameters: {}, peak memory: {}, weight bytes: {}, training compute: {}{}\n", bullet,
                       ratio_text(r.params), ratio_text(r.peak_memory), ratio_text(r.weight_bytes),
                       ratio_text(r.training_flops),
                       r.training_flops && r.training_flops_estimated ? " (estimated, 6·N·D)" : "");
    // Both averages, whichever decides (docs/statistics.md, micro and macro accuracy).
    for (const SuiteComparison& s : c.suites)
      if (s.applicable)
        out += fmt::format("{}{}: micro (items) {:.3f} vs {:.3f}, macro (task-balanced) {:.3f} vs {:.3f}, "
                           "difference {} [{}, {}]{}\n",
                           bullet, s.suite, s.micro.candidate, s.micro.baseline, s.macro.candidate, s.macro.baseline,
                           signed3(s.macro.candidate - s.macro.baseline), signed3(s.macro.difference_ci.lower),
                           signed3(s.macro.difference_ci.upper),
                           v.spec.accuracy == "macro" ? " (macro decides)" : "");
    out += "\n";
    for (const SuiteComparison& s : c.suites) out += lift_rows(s, markdown, level);
    out += markdown ? fmt::format("**{}**\n\n", c.overall.explanation)
                    : fmt::format("overall: {}\n", c.overall.explanation);
    for (const SuiteComparison& s : c.suites) {
      out += bullet + s.verdict.explanation + "\n";
      if (!s.uninformative_tasks.empty())
        out += fmt::format("{}{}{}: the comparison says nothing about these tasks (the baseline is at its "
                           "references): {}\n",
                           markdown ? "  " : "    ", bullet, s.suite, fmt::join(s.uninformative_tasks, ", "));
    }
    if (!v.spec.left_out.empty())
      out += fmt::format("{}left out of the claim (not in --suites): {}\n", bullet, fmt::join(v.spec.left_out, ", "));
    if (!v.spec.plan_sha256.empty())
      out += fmt::format("{}pre-registered plan: {} (sha256 {})\n", bullet, v.spec.plan_path, v.spec.plan_sha256);
    out += "\n";
  }
  if (v.candidates.size() > 1)
    out += markdown ? fmt::format("**Overall over all candidates: {}**\n", to_string(v.verdict))
                    : fmt::format("overall over all candidates: {}\n", to_string(v.verdict));
  return out;
}

}  // namespace tenx::eval
