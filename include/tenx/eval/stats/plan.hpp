#pragma once
// The analysis plan: the claim written down before the run (docs/plan.schema.json, docs/report.md
// "Pre-registering a claim"). `tenx plan init` writes one from verify's options; `tenx verify
// --plan FILE` takes its options from it, refuses to run when the command line contradicts it and
// records the file's SHA-256 in report.json.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tenx/eval/run/record.hpp"

namespace tenx::eval {

inline constexpr int kPlanFormat = 1;

struct AnalysisPlan {
  std::string claim;                     // the claim in words (free text, may be empty)
  std::string baseline;                  // model names, as in --baseline NAME=PATH
  std::vector<std::string> candidates;
  std::vector<std::string> suites = {"all"};
  std::string split = "test";
  std::vector<std::string> require_tasks;  // {"all"} or task names (empty: none)
  std::string margin_type = "absolute";  // "absolute" or "relative"
  double margin = 0.02;                  // absolute margin delta
  std::optional<double> margin_relative; // F; required when margin_type is "relative"
  double alpha = 0.025;                  // one-sided
  std::string accuracy = "micro";        // "micro" or "macro"
  std::string compute = "flops";         // flops, params, latency, memory, training
  double min_ratio = 10.0;
  std::uint64_t seed = 0;
  std::int64_t limit = 0;                // items per suite, 0: all
  int bootstrap_resamples = 10000;
  std::string protocol;                  // how items are run and scored (free text)
};

Json to_json(const AnalysisPlan& p);
// Throws tenx::Error(subject, "field: problem") on a missing, mistyped, out-of-range or unknown
// field, a wrong "kind" or an unsupported "format".
AnalysisPlan plan_from_json(const Json& j, const std::string& subject);

struct LoadedPlan {
  AnalysisPlan plan;
  std::string sha256;  // of the file's bytes
};
// Throws tenx::Error naming the file when it cannot be read, is not JSON or is not a valid plan.
LoadedPlan load_plan(const std::filesystem::path& file);

}  // namespace tenx::eval
