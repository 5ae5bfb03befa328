#pragma once
// The files a run leaves for people and programs: report.json (versioned; docs/report.schema.json),
// items.csv (one row per model × item), summary.md (tables and the verdict), SVG plots and
// report.html (self-contained). All are written atomically (temp file + rename).
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tenx/eval/runner.hpp"

namespace tenx::eval {

// What `tenx verify` asks: candidates against the baseline at margin delta and compute ratio.
struct VerifySpec {
  std::string baseline;                 // model name in the run
  std::vector<std::string> candidates;  // model names in the run
  double margin = 0.02;                 // non-inferiority margin delta (accuracy, absolute)
  double min_ratio = 10.0;              // FLOPs-per-item ratio baseline / candidate the claim needs
  double confidence = 0.95;
  int bootstrap_resamples = 10000;
  uint64_t seed = 0;
};

struct ReportOptions {
  std::optional<VerifySpec> verify;  // absent: metrics only, no verdict
};

// Writes report.json, items.csv, summary.md, the SVG plots and report.html into `dir`.
// Returns report.json's content (what was written).
nlohmann::ordered_json write_reports(const RunResult& run, const std::filesystem::path& dir,
                                     const ReportOptions& options = {});

}  // namespace tenx::eval
