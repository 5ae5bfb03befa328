// summary.md: the run in a few Markdown tables (per suite, per task, per model) and the verdict.
#include <fmt/format.h>

#include <cmath>

#include "report_parts.hpp"
#include "tenx/eval/report/number_format.hpp"
#include "tenx/eval/report/text_table.hpp"

namespace tenx::eval {
namespace {

// The printed forms are the shared ones (number_format.hpp, text_table.hpp).
std::string cell(const std::string& s) { return markdown_cell(s); }
std::string estimate_text(const std::optional<Estimate>& e) { return numfmt::estimate_ci(e); }
std::string seconds(double s) { return numfmt::sig3(s); }

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
  TextTable per_suite({{"model"}, {"suite"}, {fmt::format("accuracy [{} CI]", level)}, {"acc_norm"}, {"items"},
                       {"N/A"}, {"errors"}, {"FLOPs/item"}, {"text / image FLOPs/item"}, {"naive FLOPs/item"},
                       {"tokens in/out per item"},
                       {"p50 s"}, {"p90 s"}, {"p99 s"}, {"items/s"}});
  for (const GroupMetrics& g : metrics.suites) {
    const ComputeMetrics& c = g.compute;
    const bool lat = g.latency.has_value();
    per_suite.add_row({g.model, g.suite, estimate_text(g.accuracy),
                       g.accuracy_norm ? estimate_text(g.accuracy_norm) : "", std::to_string(g.applicable),
                       std::to_string(g.not_applicable), std::to_string(g.errors), numfmt::si3(c.flops_per_item),
                       numfmt::si3(c.flops_per_item - c.image_flops_per_item) + " / " +
                           numfmt::si3(c.image_flops_per_item),
                       numfmt::si3(c.naive_flops_per_item),
                       fmt::format("{:.1f} / {:.1f}", c.tokens_in_per_item, c.tokens_out_per_item),
                       lat ? seconds(g.latency->p50_seconds) : "N/A", lat ? seconds(g.latency->p90_seconds) : "N/A",
                       lat ? seconds(g.latency->p99_seconds) : "N/A",
                       lat ? numfmt::sig3(g.latency->items_per_second) : "N/A"});
  }
  out += per_suite.markdown();

  out += "\n## Per task\n\n";
  TextTable per_task({{"model"}, {"suite"}, {"task"}, {fmt::format("accuracy [{} CI]", level)}, {"items"}, {"N/A"},
                      {"FLOPs/item"}});
  for (const GroupMetrics& g : metrics.tasks)
    per_task.add_row({g.model, g.suite, g.task, estimate_text(g.accuracy), std::to_string(g.applicable),
                      std::to_string(g.not_applicable), numfmt::si3(g.compute.flops_per_item)});
  out += per_task.markdown();

  out += "\n## Models\n\n";
  TextTable models({{"model"}, {"architecture"}, {"parameters"}, {"weights"}, {"KV cache peak"}, {"working buffers"},
                    {"peak RSS"}, {"FLOPs/token"}, {"training FLOPs"}, {"sha256"}});
  for (const ModelMetrics& mm : metrics.models) {
    std::string training = "unknown";
    if (mm.training.flops)
      training = numfmt::si3(*mm.training.flops) + (mm.training.estimated ? " (estimated, 6·N·D)" : "");
    std::string types;
    for (const auto& [t, b] : mm.memory.weight_bytes_by_type)
      types += fmt::format("{}{} {}", types.empty() ? "" : ", ", t, numfmt::bytes1(static_cast<double>(b)));
    models.add_row({mm.model, mm.architecture, numfmt::si3(static_cast<double>(mm.n_params)),
                    numfmt::bytes1(static_cast<double>(mm.memory.weight_bytes)) + (types.empty() ? "" : " (" + types + ")"),
                    numfmt::bytes1(static_cast<double>(mm.memory.kv_bytes_peak)),
                    numfmt::bytes1(static_cast<double>(mm.memory.working_bytes)),
                    numfmt::bytes1(static_cast<double>(mm.memory.peak_rss_bytes)),
                    numfmt::si3(static_cast<double>(mm.flops_per_token)), training, fmt::format("`{}`", mm.sha256.substr(0, 16))});
  }
  out += models.markdown();
  std::string batches;  // the concurrency each local model's latencies were measured under
  for (const ModelMetrics& mm : metrics.models)
    if (mm.batch > 0) batches += fmt::format("{}{} {}", batches.empty() ? "" : ", ", cell(mm.model), mm.batch);
  if (!batches.empty())
    out += fmt::format("\nItems in flight per model while measured (`--batch`; records do not depend on it, latencies "
                       "do): {}.\n", batches);
  // Remote models: counted and analytic figures are never side by side unlabelled (docs/remote.md).
  for (const ModelMetrics& mm : metrics.models)
    if (mm.compute_source != "counted" || mm.latency_source != "local" || mm.memory_source != "measured")
      out += fmt::format("\n{}: FLOPs {}; latency {}; memory {}.\n", cell(mm.model), mm.compute_source,
                         mm.latency_source, mm.memory_source);
  out += "\n## Suites\n\n";
  TextTable suites({{"suite"}, {"version"}, {"split"}, {"items selected / total"}, {"sha256"}});
  for (const SuiteRef& s : m.suites)
    suites.add_row({s.name, s.version, s.split, fmt::format("{} / {}", s.items_selected, s.items_total),
                    fmt::format("`{}`", s.sha256.substr(0, 16))});
  out += suites.markdown();
  return out;
}

}  // namespace tenx::eval
