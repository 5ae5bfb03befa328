// tenx compare OLD NEW: the CI regression gate between two reports (include/tenx/eval/report/compare.hpp,
// docs/ci.md). Exit 1 on a significant regression beyond a threshold, 0 otherwise, 2 on bad input.
#include <fmt/format.h>

#include "command.hpp"
#include "tenx/eval/report/compare.hpp"
#include "tenx/eval/report/report_view.hpp"
#include "tenx/util/atomic_file.hpp"
#include "tenx/util/error.hpp"

namespace tenx::cli {
namespace {

struct CompareArgs {
  std::string old_report, new_report, markdown;
  double max_accuracy_drop = 1.0;      // percentage points
  double max_latency_increase = 10.0;  // percent
  double max_flops_increase = 0.0;     // percent
  double max_memory_increase = 0.0;    // percent
  double alpha = 0.05;
  bool json = false;
};

void run(const CompareArgs& a) {
  const eval::ReportView old_view = eval::load_report_view(a.old_report);
  const eval::ReportView new_view = eval::load_report_view(a.new_report);
  eval::CompareOptions o;
  o.max_accuracy_drop = a.max_accuracy_drop / 100.0;
  o.max_latency_increase = a.max_latency_increase / 100.0;
  o.max_flops_increase = a.max_flops_increase / 100.0;
  o.max_memory_increase = a.max_memory_increase / 100.0;
  o.alpha = a.alpha;
  const eval::Comparison c = eval::compare_reports(old_view, new_view, o);
  const std::string md = eval::comparison_markdown(c);
  if (!a.markdown.empty()) {
    write_file_atomically(a.markdown, md);
  }
  if (a.json) {
    fmt::print("{}\n", eval::to_json(c).dump(2));
  } else {
    fmt::print("{}", md);
  }
  exit_code() = c.exit_code();
}

const Registrar compare_command{"compare", [](CLI::App& app) {
  auto args = std::make_shared<CompareArgs>();
  auto* sub = app.add_subcommand(
      "compare", "CI gate: compare two report.json files on the same items; exit 1 on a significant regression");
  sub->add_option("old", args->old_report, "Baseline report.json (or run folder holding one)")->required();
  sub->add_option("new", args->new_report, "New report.json (or run folder holding one)")->required();
  sub->add_option("--max-accuracy-drop", args->max_accuracy_drop,
                  "Accuracy drop allowed, in percentage points (fails only when also McNemar p < alpha)")
      ->capture_default_str();
  sub->add_option("--max-latency-increase", args->max_latency_increase,
                  "Median latency increase allowed, in percent (fails only when also Mann-Whitney p < alpha)")
      ->capture_default_str();
  sub->add_option("--max-flops-increase", args->max_flops_increase, "FLOPs-per-item increase allowed, in percent")
      ->capture_default_str();
  sub->add_option("--max-memory-increase", args->max_memory_increase,
                  "Memory (weights + KV peak + buffers) increase allowed, in percent")
      ->capture_default_str();
  sub->add_option("--alpha", args->alpha, "Significance level of the tests")->capture_default_str();
  sub->add_option("--markdown", args->markdown, "Also write the Markdown table to this file");
  sub->add_flag("--json", args->json, "Print JSON instead of Markdown");
  sub->callback([args] { run(*args); });
}};

}  // namespace
}  // namespace tenx::cli
