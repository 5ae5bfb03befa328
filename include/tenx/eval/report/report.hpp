#pragma once
// The files a run leaves for people and programs: report.json (versioned; docs/report.schema.json),
// items.csv (one row per model × item), summary.md (tables and the verdict), SVG plots and
// report.html (self-contained), and `tenx run`'s console table: each a writer of the registry
// (report_writer.hpp). All files are written atomically (temp file + rename).
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tenx/eval/run/record.hpp"
#include "tenx/eval/stats/claim.hpp"

namespace tenx::eval {

struct ReportOptions {
  std::optional<VerifySpec> verify;  // absent: metrics only, no verdict
  // Writer names (report_writer.hpp: parse_report_formats); empty: every writer.
  std::vector<std::string> formats;
  std::FILE* console = nullptr;  // where the console writer prints its table (null: nowhere)
};

// Runs the chosen writers into `dir`: by default report.json, items.csv, summary.md, the SVG
// plots and report.html. Returns report.json's content (built even when "json" is not chosen:
// `tenx verify --json` prints its verdict).
nlohmann::ordered_json write_reports(const RunResult& run, const std::filesystem::path& dir,
                                     const ReportOptions& options = {});

// write_reports (report.hpp) with a verdict already computed (what `tenx verify` does, so the
// bootstrap runs once).
// options.verify is not used.
Json write_reports(const RunResult& run, const std::filesystem::path& dir, const ClaimVerdict& verdict,
                   const ReportOptions& options = {});

}  // namespace tenx::eval
