// write_reports (report.hpp, claim.hpp): metrics and verdict computed once, then the chosen
// writers of the registry (report_writer.hpp) run in order, each file written atomically (temp
// file + rename), so a reader or a crash never sees a half-written report.
#include <fmt/format.h>

#include <algorithm>
#include <system_error>

#include "report_parts.hpp"
#include "tenx/eval/report/report.hpp"
#include "tenx/eval/report/report_writer.hpp"
#include "tenx/util/atomic_file.hpp"
#include "tenx/util/error.hpp"

namespace tenx::eval {
namespace {

Json write_all(const RunResult& run, const std::filesystem::path& dir, const ClaimVerdict* verdict,
               const ReportOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(dir.string(), "cannot create the report folder: " + ec.message());
  MetricsOptions mo;
  if (verdict) {
    mo.confidence = verdict->spec.confidence;
    mo.bootstrap_resamples = static_cast<std::size_t>(verdict->spec.bootstrap_resamples);
  }
  const RunMetrics metrics = compute_metrics(run, mo);
  const Json report = report_json(run, metrics, verdict);
  const ReportView view = report_view_of(run, metrics, verdict, (dir / "report.json").string());
  const ReportInput in{run, metrics, verdict, report, view, options.console};
  for (const ReportWriter* w : report_writers()) {
    const bool chosen = options.formats.empty() ||
                        std::find(options.formats.begin(), options.formats.end(), w->name()) != options.formats.end();
    if (chosen) w->write(in, dir);
  }
  return report;
}

}  // namespace

Json write_reports(const RunResult& run, const std::filesystem::path& dir, const ReportOptions& options) {
  if (options.verify) {
    const ClaimVerdict v = verify_claim(run, *options.verify);
    return write_all(run, dir, &v, options);
  }
  return write_all(run, dir, nullptr, options);
}

Json write_reports(const RunResult& run, const std::filesystem::path& dir, const ClaimVerdict& verdict,
                   const ReportOptions& options) {
  return write_all(run, dir, &verdict, options);
}

}  // namespace tenx::eval
