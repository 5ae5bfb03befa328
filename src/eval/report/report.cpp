// write_reports (report.hpp, claim.hpp): metrics and verdict computed once, then every file of
// the report folder written atomically (temp file + rename), so a reader or a crash never sees a
// half-written report.
#include <fmt/format.h>

#include <system_error>

#include "report_parts.hpp"
#include "tenx/eval/report/report_html.hpp"
#include "tenx/eval/report/report.hpp"
#include "tenx/util/atomic_file.hpp"
#include "tenx/util/error.hpp"

namespace tenx::eval {
namespace {

Json write_all(const RunResult& run, const std::filesystem::path& dir, const ClaimVerdict* verdict) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(dir.string(), "cannot create the report folder: " + ec.message());
  MetricsOptions mo;
  if (verdict) {
    mo.confidence = verdict->spec.confidence;
    mo.bootstrap_resamples = static_cast<std::size_t>(verdict->spec.bootstrap_resamples);
  }
  const RunMetrics metrics = compute_metrics(run, mo);
  Json report = report_json(run, metrics, verdict);
  write_file_atomically(dir / "report.json", report.dump(2) + "\n");
  write_file_atomically(dir / "items.csv", items_csv(run));
  write_file_atomically(dir / "summary.md", summary_markdown(run, metrics, verdict));
  // Last, so a failure in the drawing leaves the numbers written: the SVG plots and report.html.
  write_plots_and_html(report, dir);
  return report;
}

}  // namespace

Json write_reports(const RunResult& run, const std::filesystem::path& dir, const ReportOptions& options) {
  if (options.verify) {
    const ClaimVerdict v = verify_claim(run, *options.verify);
    return write_all(run, dir, &v);
  }
  return write_all(run, dir, nullptr);
}

Json write_reports(const RunResult& run, const std::filesystem::path& dir, const ClaimVerdict& verdict) {
  return write_all(run, dir, &verdict);
}

}  // namespace tenx::eval
