// The verdict as people read it (claim.hpp: verdict_text): one row per suite, the compute ratios,
// the overall line and one sentence per suite. The same rows serve the terminal (aligned text) and
// summary.md (Markdown).
#include <fmt/format.h>

#include <algorithm>

#include "tenx/eval/claim.hpp"

namespace tenx::eval {
namespace {

std::size_t display_width(const std::string& s) {  // UTF-8 code points
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string table(const std::vector<std::vector<std::string>>& rows, bool markdown) {
  std::vector<std::size_t> width(rows.front().size(), 0);
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], display_width(r[i]));
  std::string out;
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const auto& r = rows[k];
    std::string line = markdown ? "|" : "";
    for (std::size_t i = 0; i < r.size(); ++i) {
      const std::string pad(width[i] - display_width(r[i]), ' ');
      line += markdown ? " " + r[i] + pad + " |" : (i ? "  " : "") + r[i] + pad;
    }
    while (!markdown && !line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
    if (k == 0) {
      std::string rule = markdown ? "|" : "";
      for (std::size_t i = 0; i < r.size(); ++i)
        rule += markdown ? std::string(width[i] + 2, '-') + "|" : (i ? "  " : "") + std::string(width[i], '-');
      out += rule + "\n";
    }
  }
  return out;
}

std::string signed3(double x) {
  if (std::abs(x) < 0.0005) return "0.000";
  return fmt::format("{}{:.3f}", x < 0 ? "\u2212" : "+", std::abs(x));
}

std::string p_value(double p) { return p < 0.0001 ? "<0.0001" : fmt::format("{:.4f}", p); }

std::string ratio_text(const std::optional<double>& r) {
  return r ? fmt::format("{:.2f}x", *r) : std::string("unknown");
}

}  // namespace

std::string verdict_text(const ClaimVerdict& v, bool markdown) {
  std::string out;
  const std::string level = fmt::format("{:g}%", v.spec.confidence * 100);
  for (const CandidateVerdict& c : v.candidates) {
    out += markdown ? fmt::format("### {} vs {} (margin {:g}, required ratio {:g}x)\n\n", c.candidate,
                                  c.baseline, v.spec.margin, v.spec.min_ratio)
                    : fmt::format("{} vs {}  (margin {:g}, required FLOPs ratio {:g}x)\n", c.candidate,
                                  c.baseline, v.spec.margin, v.spec.min_ratio);
    std::vector<std::vector<std::string>> rows = {
        {"suite", "items", c.candidate, c.baseline, fmt::format("difference [{} CI]", level),
         "McNemar p", "verdict"}};
    for (const SuiteComparison& s : c.suites) {
      if (!s.applicable) {
        rows.push_back({s.suite, "0", "N/A", "N/A", "N/A", "N/A", "N/A"});
        continue;
      }
      const SuiteEvidence& e = s.verdict.evidence;
      std::string verdict(to_string(s.verdict.verdict));
      if (s.verdict.verdict == Verdict::inconclusive && s.verdict.items_needed)
        verdict += fmt::format(" (~{} items needed)", *s.verdict.items_needed);
      rows.push_back({s.suite, fmt::format("{}", s.items_paired),
                      fmt::format("{:.3f}", e.candidate_accuracy),
                      fmt::format("{:.3f}", e.baseline_accuracy),
                      fmt::format("{} [{}, {}]", signed3(e.difference()), signed3(e.difference_ci.lower),
                                  signed3(e.difference_ci.upper)),
                      p_value(s.mcnemar_p), verdict});
    }
    out += table(rows, markdown);
    out += "\n";
    const ComputeRatios& r = c.compute;
    const std::string bullet = markdown ? "- " : "  ";
    out += fmt::format("{}FLOPs per item: {:.4g} vs {:.4g}, ratio {:.2f}x ({} the required {:g}x)\n",
                       bullet, r.flops.evidence.baseline_flops_per_item,
                       r.flops.evidence.candidate_flops_per_item, r.flops.ratio,
                       r.flops.holds ? "meets" : "short of", r.flops.evidence.min_ratio);
    if (!r.sources.empty()) out += fmt::format("{}sources: {}\n", bullet, r.sources);
    if (r.latency && r.latency->ci)
      out += fmt::format("{}latency per item: {:.2f}x [{} CI {:.2f}, {:.2f}]\n", bullet, r.latency->value,
                         level, r.latency->ci->lower, r.latency->ci->upper);
    else
      out += fmt::format("{}latency per item: unknown\n", bullet);
    out += fmt::format("{}peak memory: {}, weight bytes: {}, training compute: {}{}\n", bullet,
                       ratio_text(r.peak_memory), ratio_text(r.weight_bytes),
                       ratio_text(r.training_flops),
                       r.training_flops && r.training_flops_estimated ? " (estimated, 6·N·D)" : "");
    out += "\n";
    out += markdown ? fmt::format("**{}**\n\n", c.overall.explanation)
                    : fmt::format("overall: {}\n", c.overall.explanation);
    for (const SuiteComparison& s : c.suites) out += bullet + s.verdict.explanation + "\n";
    out += "\n";
  }
  if (v.candidates.size() > 1)
    out += markdown ? fmt::format("**Overall over all candidates: {}**\n", to_string(v.verdict))
                    : fmt::format("overall over all candidates: {}\n", to_string(v.verdict));
  return out;
}

}  // namespace tenx::eval
