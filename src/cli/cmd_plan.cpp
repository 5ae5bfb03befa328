// tenx plan init [claim options] --out plan.json: writes the analysis plan (plan.hpp) from the
// options verify takes, before any run; tenx plan check plan.json: validates one and prints its
// SHA-256 (what report.json will record). docs/report.md "Pre-registering a claim".
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "claim_options.hpp"
#include "command.hpp"
#include "tenx/eval/stats/plan.hpp"
#include "tenx/util/atomic_file.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/sha256.hpp"

namespace tenx::cli {
namespace {

constexpr const char* kDefaultProtocol =
    "tenx verify: zero-shot; choice items by the log-likelihood of each continuation, generate items by greedy "
    "decoding and the suite's answer match, agent items in the suite's tool environment (docs/evaluation.md); "
    "seeded paired bootstrap (stratified by task) and Newcombe's interval; assay sensitivity against the "
    "suites' trivial references and blind controls (docs/statistics.md)";

struct PlanArgs {
  ClaimArgs claim;
  std::string out, file;
  bool force = false, json = false;
};

void init(PlanArgs& p) {
  ClaimArgs& a = p.claim;
  if (a.baseline.empty()) throw Error("--baseline", "give the baseline model's NAME (or NAME=PATH)");
  if (a.candidates.empty()) throw Error("--candidate", "give at least one candidate");
  if (p.out.empty()) throw Error("--out", "give the plan file to write");
  check_claim_args(a);
  if (a.protocol.empty()) a.protocol = kDefaultProtocol;
  if (std::filesystem::exists(p.out) && !p.force)
    throw Error(p.out, "exists already; a plan is written once (--force to replace it)");
  const std::string text = to_json(plan_from_args(a)).dump(2) + "\n";
  // Read back through the strict reader: what init writes, verify accepts.
  eval::plan_from_json(eval::Json::parse(text), p.out);
  write_file_atomically(p.out, text);
  fmt::print("plan: {}\nsha256: {}\n", p.out, sha256_hex(text));
}

void check(const PlanArgs& p) {
  const eval::LoadedPlan plan = eval::load_plan(p.file);
  if (p.json) {
    eval::Json j = to_json(plan.plan);
    j["sha256"] = plan.sha256;
    fmt::print("{}\n", j.dump(2));
    return;
  }
  const eval::AnalysisPlan& x = plan.plan;
  fmt::print("plan: {}\nsha256: {}\n", p.file, plan.sha256);
  fmt::print("claim: {} vs {} on suites {}; margin {} {}; alpha {:g}; {} accuracy; ratio >= {:g}x of {}\n",
             fmt::join(x.candidates, ","), x.baseline, fmt::join(x.suites, ","), x.margin_type,
             x.margin_type == "relative" ? fmt::format("F = {:g}", x.margin_relative.value_or(0.0))
                                         : fmt::format("{:g}", x.margin),
             x.alpha, x.accuracy, x.min_ratio, x.compute);
}

const Registrar plan_command{"plan", [](CLI::App& app) {
  auto args = std::make_shared<PlanArgs>();
  auto* plan = app.add_subcommand("plan", "Pre-register a claim: write or check an analysis plan for tenx verify --plan");
  plan->require_subcommand(1);
  auto* init_cmd = plan->add_subcommand("init", "Write the analysis plan from verify's options (before the run)");
  add_claim_options(init_cmd, args->claim);
  init_cmd->add_option("--claim", args->claim.claim, "the claim in words");
  init_cmd->add_option("--protocol", args->claim.protocol, "how the items are run and scored (default: tenx's protocol)");
  init_cmd->add_option("--out", args->out, "the plan file to write")->required();
  init_cmd->add_flag("--force", args->force, "replace an existing plan file");
  init_cmd->callback([args] { init(*args); });
  auto* check_cmd = plan->add_subcommand("check", "Validate a plan file and print its SHA-256");
  check_cmd->add_option("FILE", args->file, "plan.json")->required();
  check_cmd->add_flag("--json", args->json, "print the plan and its sha256 as JSON");
  check_cmd->callback([args] { check(*args); });
}};

}  // namespace
}  // namespace tenx::cli
