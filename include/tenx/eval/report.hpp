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
// Every field is also a field of the analysis plan (plan.hpp, docs/plan.schema.json).
struct VerifySpec {
  std::string baseline;                 // model name in the run
  std::vector<std::string> candidates;  // model names in the run
  double margin = 0.02;                 // non-inferiority margin delta (accuracy, absolute)
  // Preserved-effect margin: when set (F in (0, 1)), the verdict uses
  // delta_rel = (1 - F) x (baseline - reference) on the same items instead of `margin`; the
  // report shows both readings (the relative one at F = 0.5 when unset).
  std::optional<double> margin_relative;
  double min_ratio = 10.0;              // ratio baseline / candidate of `compute` the claim needs
  // Which compute the ratio is on: "flops" (inference FLOPs per item), "params" (active
  // parameters), "latency" (mean seconds per item), "memory" (own peak memory), "training"
  // (training FLOPs).
  std::string compute = "flops";
  std::string accuracy = "micro";       // "micro" (items) or "macro" (task-balanced) decides
  // Tasks whose own assay sensitivity is part of the verdict: {"all"} or task names; a listed
  // task at its references makes its suite UNINFORMATIVE.
  std::vector<std::string> require_tasks;
  double confidence = 0.95;             // two-sided; the one-sided alpha is (1 - confidence) / 2
  int bootstrap_resamples = 10000;
  uint64_t seed = 0;
  std::string plan_path, plan_sha256;   // the pre-registered plan, when verify ran under one
  std::vector<std::string> left_out;    // shipped suites the claim leaves out (named in the report)
};

struct ReportOptions {
  std::optional<VerifySpec> verify;  // absent: metrics only, no verdict
};

// Writes report.json, items.csv, summary.md, the SVG plots and report.html into `dir`.
// Returns report.json's content (what was written).
nlohmann::ordered_json write_reports(const RunResult& run, const std::filesystem::path& dir,
                                     const ReportOptions& options = {});

}  // namespace tenx::eval
