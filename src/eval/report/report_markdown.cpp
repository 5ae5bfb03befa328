// summary.md: the run in a few Markdown tables (per suite, per task, per model) and the verdict.
#include <fmt/format.h>

#include <cmath>

#include "report_parts.hpp"

namespace tenx::eval {
namespace {

std::string cell(const std::string& s) {  // Markdown table cells cannot hold '|' or newlines
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  return out;
}

std::string estimate_text(const std::optional<Estimate>& e) {
  if (!e) return "N/A";
  return fmt::format("{:.3f} [{:.3f}, {:.3f}]", e->value, e->ci.lower, e->ci.upper);
}

std::string si(double x) {  // 1.23 G
  const char* units[] = {"", " k", " M", " G", " T", " P", " E"};
  int u = 0;
  while (std::abs(x) >= 1000 && u < 6) {
    x /= 1000;
    ++u;
  }
  return fmt::format("{:.3g}{}", x, units[u]);
}

std::string bytes(double x) {  // 1.2 MiB
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (x >= 1024 && u < 4) {
    x /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} B", x) : fmt::format("{:.1f} {}", x, units[u]);
}

std::string seconds(double s) { return fmt::format("{:.3g}", s); }

}  // namespace

std::string summary_markdown(const RunResult& run, const RunMetrics& metrics,
                             const ClaimVerdict* verdict) {
  const RunManifest& m = run.manifest;
  const std::string level = fmt::format("{:g}%", metrics.confidence * 100);
  std::string out = "# tenx report\n\n";
  out += fmt::format("tenx {} ({}), {}; {} threads; seed {}; {}; CPU: {}; {}\n\n", m.tenx_version,
                     m.git_commit.empty() ? "unknown commit" : m.git_commit, m.compiler, m.threads,
                     m.seed, m.limit > 0 ? fmt::format("limit {} items per suite", m.limit) : "all items",
                     m.cpu_model, m.date);
  out += fmt::format(
      "Accuracy with {} intervals (Wilson); N/A items (image items without a projector) are left "
      "out, never counted as 0. FLOPs as counted by the core (docs/flops.md).\n\n",
      level);

  if (verdict) {
    out += fmt::format("## Verdict: {}\n\n", to_string(verdict->verdict));
    out += verdict_text(*verdict, true);
    out += "\n";
  }

  out += "## Per suite\n\n";
  out += fmt::format(
      "| model | suite | accuracy [{} CI] | acc_norm | items | N/A | errors | FLOPs/item | naive "
      "FLOPs/item | tokens in/out per item | p50 s | p90 s | p99 s | items/s |\n",
      level);
  out += "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const GroupMetrics& g : metrics.suites) {
    const ComputeMetrics& c = g.compute;
    const bool lat = g.latency.has_value();
    out += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1f} / {:.1f} | {} | {} | {} | {} |\n",
                       cell(g.model), cell(g.suite), estimate_text(g.accuracy),
                       g.accuracy_norm ? estimate_text(g.accuracy_norm) : "", g.applicable,
                       g.not_applicable, g.errors, si(c.flops_per_item), si(c.naive_flops_per_item),
                       c.tokens_in_per_item, c.tokens_out_per_item,
                       lat ? seconds(g.latency->p50_seconds) : "N/A",
                       lat ? seconds(g.latency->p90_seconds) : "N/A",
                       lat ? seconds(g.latency->p99_seconds) : "N/A",
                       lat ? fmt::format("{:.3g}", g.latency->items_per_second) : "N/A");
  }

  out += "\n## Per task\n\n";
  out += fmt::format("| model | suite | task | accuracy [{} CI] | items | N/A | FLOPs/item |\n", level);
  out += "|---|---|---|---|---|---|---|\n";
  for (const GroupMetrics& g : metrics.tasks)
    out += fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", cell(g.model), cell(g.suite),
                       cell(g.task), estimate_text(g.accuracy), g.applicable, g.not_applicable,
                       si(g.compute.flops_per_item));

  out += "\n## Models\n\n";
  out += "| model | architecture | parameters | weights | KV cache peak | working buffers | peak RSS | FLOPs/token | training FLOPs | sha256 |\n";
  out += "|---|---|---|---|---|---|---|---|---|---|\n";
  for (const ModelMetrics& mm : metrics.models) {
    std::string training = "unknown";
    if (mm.training.flops)
      training = si(*mm.training.flops) + (mm.training.estimated ? " (estimated, 6·N·D)" : "");
    std::string types;
    for (const auto& [t, b] : mm.memory.weight_bytes_by_type)
      types += fmt::format("{}{} {}", types.empty() ? "" : ", ", t, bytes(static_cast<double>(b)));
    out += fmt::format("| {} | {} | {} | {}{} | {} | {} | {} | {} | {} | `{}` |\n", cell(mm.model),
                       cell(mm.architecture), si(static_cast<double>(mm.n_params)),
                       bytes(static_cast<double>(mm.memory.weight_bytes)),
                       types.empty() ? "" : " (" + types + ")",
                       bytes(static_cast<double>(mm.memory.kv_bytes_peak)),
                       bytes(static_cast<double>(mm.memory.working_bytes)),
                       bytes(static_cast<double>(mm.memory.peak_rss_bytes)),
                       si(static_cast<double>(mm.flops_per_token)), training,
                       mm.sha256.substr(0, 16));
  }
  // Remote models: counted and analytic figures are never side by side unlabelled (docs/remote.md).
  for (const ModelMetrics& mm : metrics.models)
    if (mm.compute_source != "counted" || mm.latency_source != "local" || mm.memory_source != "measured")
      out += fmt::format("\n{}: FLOPs {}; latency {}; memory {}.\n", cell(mm.model), mm.compute_source,
                         mm.latency_source, mm.memory_source);
  out += "\n## Suites\n\n| suite | version | split | items selected / total | sha256 |\n|---|---|---|---|---|\n";
  for (const SuiteRef& s : m.suites)
    out += fmt::format("| {} | {} | {} | {} / {} | `{}` |\n", cell(s.name), cell(s.version),
                       cell(s.split), s.items_selected, s.items_total, s.sha256.substr(0, 16));
  return out;
}

}  // namespace tenx::eval
