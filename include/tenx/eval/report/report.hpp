#pragma once
// The files a run leaves for people and programs: report.json (versioned; docs/report.schema.json),
// items.csv (one row per model × item), summary.md (tables and the verdict), SVG plots and
// report.html (self-contained). All are written atomically (temp file + rename).
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tenx/eval/run/record.hpp"
#include "tenx/eval/stats/claim.hpp"

namespace tenx::eval {

struct ReportOptions {
  std::optional<VerifySpec> verify;  // absent: metrics only, no verdict
};

// Writes report.json, items.csv, summary.md, the SVG plots and report.html into `dir`.
// Returns report.json's content (what was written).
nlohmann::ordered_json write_reports(const RunResult& run, const std::filesystem::path& dir,
                                     const ReportOptions& options = {});

// write_reports (report.hpp) with a verdict already computed (what `tenx verify` does, so the
// bootstrap runs once).
Json write_reports(const RunResult& run, const std::filesystem::path& dir, const ClaimVerdict& verdict);

}  // namespace tenx::eval
