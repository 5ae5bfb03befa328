#pragma once
// The outputs of a report folder as writers in one registry (report_writers.cpp): report.json,
// items.csv, summary.md, the SVG plots, report.html and the console table. Every writer is fed
// the typed metrics computed once by write_reports() (report.hpp); none reads report.json back.
// Adding a report format is one writer class and its line in the registry.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "tenx/eval/report/metrics.hpp"
#include "tenx/eval/report/report_view.hpp"
#include "tenx/eval/stats/claim.hpp"

namespace tenx::eval {

// What a writer may draw from: the run, its metrics, the verdict (null: metrics only), the
// report.json document as built in memory, and the same metrics as the typed view the plots
// and the HTML page use (report_view_of, report_view.hpp).
struct ReportInput {
  const RunResult& run;
  const RunMetrics& metrics;
  const ClaimVerdict* verdict;
  const Json& report;
  const ReportView& view;
  std::FILE* console;  // where the console writer prints (null: nowhere)
};

class ReportWriter {
 public:
  virtual ~ReportWriter() = default;
  virtual const char* name() const = 0;         // the --formats name: json, csv, md, svg, html, console
  virtual const char* description() const = 0;  // for --help and docs
  // The files it leaves in the report folder (empty for the console).
  virtual std::vector<std::string> files() const = 0;
  // Writes its files into `dir` atomically; throws tenx::Error naming the file.
  virtual void write(const ReportInput& in, const std::filesystem::path& dir) const = 0;
};

// Every writer in the order write_reports() runs them: the numbers first, the drawing last, so a
// failure in the drawing leaves the numbers written.
const std::vector<const ReportWriter*>& report_writers();

// The console writer's text: per model × suite, items, N/A, acc, acc_norm, FLOPs per item.
std::string console_table(const RunMetrics& metrics);

// "json,csv,md" -> those names in registry order; "all" or "" -> every writer. Throws
// tenx::Error("--formats", "unknown format 'x' (known: json, csv, md, svg, html, console)").
std::vector<std::string> parse_report_formats(const std::string& list);

}  // namespace tenx::eval
