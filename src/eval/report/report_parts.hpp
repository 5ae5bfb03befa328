#pragma once
// The pieces write_reports() (report.hpp) assembles, one file each: report_json.cpp,
// report_csv.cpp, report_markdown.cpp. Private to src/eval.
#include <optional>
#include <string>

#include "tenx/eval/report/claim_report.hpp"
#include "tenx/eval/report/metrics.hpp"

namespace tenx::eval {

// An optional value as JSON: the value, or null when absent (report.json writes every key).
template <class T>
Json json_or_null(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}

Json report_json(const RunResult& run, const RunMetrics& metrics, const ClaimVerdict* verdict);
// report.json's "environment": the manifest's machine, build and command line.
Json environment_json(const RunManifest& m);

// items.csv: a header and one row per model × item, RFC 4180 quoting.
std::string items_csv(const RunResult& run);
// One CSV field, quoted when it holds a comma, quote, CR or LF (quotes doubled).
std::string csv_field(const std::string& s);

std::string summary_markdown(const RunResult& run, const RunMetrics& metrics,
                             const ClaimVerdict* verdict);

// report.html's assay-sensitivity, blind-control and plan sections (report_html_assay.cpp), from
// report.json's verdict (format 2; nothing for format-1 verdicts, which have no such fields).
struct ReportView;
void assay_sections(std::string& html, const ReportView& view);

}  // namespace tenx::eval
