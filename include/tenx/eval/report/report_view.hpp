#pragma once
// A typed, read-only view of a report.json (docs/report.schema.json) for the programs that read
// reports rather than runs: the HTML page and plots, `tenx compare` and `tenx frontier`. Every
// field a reader needs is checked here once, so a malformed report fails with one clear error
// naming the file and the field, never with a crash deep in a table printer.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tenx/eval/run/record.hpp"
#include "tenx/eval/stats/stats.hpp"

namespace tenx::eval {

struct ReportEstimate {
  double value = 0.0;
  Interval ci;
  std::uint64_t n = 0;
};

// Per-item values of one model × suite, in the run's item order (the same for every model).
struct ReportItems {
  std::vector<std::string> ids;
  std::vector<bool> applicable;
  std::vector<double> score;    // 0/1 correctness ("correct"; "score" when a report has no "correct")
  std::vector<double> seconds;  // wall time
  std::vector<double> flops;    // counted FLOPs
};

struct ReportGroup {
  std::string model, suite;
  std::uint64_t items = 0, applicable = 0, errors = 0;
  std::optional<ReportEstimate> accuracy;  // none: N/A
  double flops_per_item = 0.0;
  double naive_flops_per_item = 0.0;
  double tokens_in_per_item = 0.0, tokens_out_per_item = 0.0;
  std::optional<double> mean_seconds, p50_seconds, p90_seconds, p99_seconds, items_per_second;
  std::optional<double> ttft_seconds, ms_per_decoded_token;
  ReportItems per_item;  // empty when the report has no per-item arrays
};

struct ReportModel {
  std::string name, path, architecture, sha256;
  std::int64_t n_params = 0;
  double flops_per_token = 0.0;
  std::uint64_t weight_bytes = 0, kv_bytes_peak = 0, working_bytes = 0, peak_rss_bytes = 0;
  std::optional<double> training_flops;
  bool training_estimated = false;
  std::string sources;  // remote models: "FLOPs ...; latency ...; memory ..." (empty: all local)
};

struct ReportView {
  std::string subject;  // the file it came from (for error messages)
  int format = 0;
  double confidence = 0.95;
  std::vector<ReportModel> models;   // run order
  std::vector<std::string> suites;   // run order
  std::vector<ReportGroup> groups;   // model × suite
  Json environment = Json::object();
  Json verdict = nullptr;            // the claim as report.json has it (null: metrics only)

  const ReportGroup* group(const std::string& model, const std::string& suite) const;
  const ReportModel* model(const std::string& name) const;
};

// Throws tenx::Error(subject, "field: problem") on a wrong format version or a missing/mistyped
// field.
ReportView report_view_from_json(const Json& report, const std::string& subject);

// The same view from a run's typed metrics in memory (report_view_typed.cpp): what the SVG and
// HTML writers of `tenx run`/`verify` draw from, so one process never parses its own report.json
// back. Field for field what report_view_from_json would read from report_json()'s document.
struct RunMetrics;
struct ClaimVerdict;
ReportView report_view_of(const RunResult& run, const RunMetrics& metrics, const ClaimVerdict* verdict,
                          const std::string& subject);

// Reads a report.json file, or a run folder's report.json. Throws tenx::Error naming the file
// (unreadable, malformed JSON, wrong format version, missing fields).
ReportView load_report_view(const std::filesystem::path& path);

}  // namespace tenx::eval
