#pragma once
// The options that define a claim, shared by `tenx verify` and `tenx plan init`, and how a
// pre-registered plan (plan.hpp) fills them in or refuses a command line that contradicts it.
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "tenx/eval/stats/plan.hpp"
#include "tenx/eval/report/report.hpp"

namespace tenx::cli {

struct ClaimArgs {
  std::string baseline;                 // NAME=PATH (NAME alone with verify --run or plan init)
  std::vector<std::string> candidates;
  double margin = 0.02;
  double margin_relative = 0.0;         // 0: not given
  double alpha = 0.025;
  std::string accuracy = "micro";
  std::string compute = "flops";
  double min_ratio = 10.0;
  std::vector<std::string> suites = {"all"};
  std::string split = "test";
  int64_t limit = 0;
  uint64_t seed = 0;
  std::vector<std::string> require_tasks;
  int bootstrap_resamples = 10000;      // no option: from a plan, else the default
  std::string protocol;                 // plan init only
  std::string claim;                    // plan init only
};

// Registers --baseline, --candidate, --margin, --margin-relative, --alpha, --accuracy, --compute,
// --min-ratio, --suites, --split, --limit, --seed, --require-tasks. `models_required`: verify needs
// the models on the command line unless a plan names them, so it checks them itself.
void add_claim_options(CLI::App* sub, ClaimArgs& a);

// Range checks; throws tenx::Error naming the option.
void check_claim_args(const ClaimArgs& a);

// The model NAME of a NAME=PATH (or bare NAME / PATH) argument.
std::string model_name(const std::string& arg);

eval::AnalysisPlan plan_from_args(const ClaimArgs& a);

// Fills every claim option the command line did not give from the plan and throws
// tenx::Error(file, "--OPTION is X on the command line but the plan says Y") for one it gave
// differently. Model arguments are compared by NAME.
void apply_plan(const eval::AnalysisPlan& plan, const std::string& file, const CLI::App& sub, ClaimArgs& a);

// The VerifySpec of the options (models by name).
eval::VerifySpec verify_spec(const ClaimArgs& a);

}  // namespace tenx::cli
