// tenx verify --baseline NAME=PATH --candidate NAME=PATH [...]: runs the baseline and the
// candidates on the same items (or reads a finished run with --run), decides the claim "as
// capable at >= min-ratio x less compute" (claim.hpp), writes the report folder and exits
// 0 supported, 3 not supported, 4 inconclusive, 2 bad input (docs/report.md).
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "command.hpp"
#include "common.hpp"
#include "run_common.hpp"
#include "tenx/eval/claim.hpp"
#include "tenx/util/error.hpp"

namespace tenx::cli {
namespace {

namespace fs = std::filesystem;

struct VerifyArgs {
  std::string baseline;
  std::vector<std::string> candidates;
  double margin = 0.02;
  double min_ratio = 10.0;
  std::vector<std::string> suites = {"all"};
  std::string split = "test";
  std::string suites_dir;
  int64_t limit = 0;
  uint64_t seed = 0;
  int threads = 1;
  std::string out, run_dir;
  bool quiet = false, json = false;
  RemoteArgs remote;
};

// The command as parsed, recorded in run.json (CLI11 does not keep the raw argv).
std::vector<std::string> command_line(const VerifyArgs& a) {
  std::vector<std::string> v = {"tenx", "verify", "--baseline", a.baseline};
  for (const auto& c : a.candidates) v.insert(v.end(), {"--candidate", c});
  std::string suites;
  for (const auto& s : a.suites) suites += (suites.empty() ? "" : ",") + s;
  v.insert(v.end(), {"--margin", fmt::format("{}", a.margin), "--min-ratio", fmt::format("{}", a.min_ratio),
                     "--suites", suites, "--split", a.split, "--limit", std::to_string(a.limit), "--seed",
                     std::to_string(a.seed), "--threads", std::to_string(a.threads)});
  if (!a.out.empty()) v.insert(v.end(), {"--out", a.out});
  return v;
}

void run(const VerifyArgs& a) {
  if (!(a.margin > 0.0 && a.margin < 1.0)) throw Error("--margin", fmt::format("must be in (0, 1), got {}", a.margin));
  if (!(a.min_ratio > 0.0)) throw Error("--min-ratio", fmt::format("must be > 0, got {}", a.min_ratio));
  if (a.limit < 0) throw Error("--limit", "must be >= 0");
  if (a.candidates.empty()) throw Error("--candidate", "give at least one candidate");
  const bool from_run = !a.run_dir.empty();
  const eval::ModelArg base = parse_model_arg(a.baseline, "--baseline", from_run);
  std::vector<eval::ModelArg> cands;
  for (const std::string& c : a.candidates) cands.push_back(parse_model_arg(c, "--candidate", from_run));

  eval::VerifySpec spec;
  spec.baseline = base.name;
  for (const auto& c : cands) spec.candidates.push_back(c.name);
  spec.margin = a.margin;
  spec.min_ratio = a.min_ratio;
  spec.seed = a.seed;

  eval::RunResult result;
  fs::path out;
  if (from_run) {
    result = eval::read_run(a.run_dir);
    out = a.out.empty() ? fs::path(a.run_dir) : fs::path(a.out);
  } else {
    out = a.out.empty() ? default_run_dir("verify") : fs::path(a.out);
    if (!a.quiet) fmt::print(stderr, "tenx verify: run folder {}\n", out.string());
    eval::RunOptions o;
    o.models.push_back(base);
    for (const auto& c : cands) o.models.push_back(c);
    o.suites = a.suites;
    o.split = a.split;
    o.suites_dir = a.suites_dir;
    o.limit = a.limit;
    o.seed = a.seed;
    o.threads = a.threads;
    o.out_dir = out;
    o.quiet = a.quiet;
    o.argv = command_line(a);
    apply_remote_options(a.remote, o);
    result = eval::run_evaluation(o, run_progress_printer(a.quiet));
  }
  const eval::ClaimVerdict verdict = eval::verify_claim(result, spec);
  const eval::Json report = eval::write_reports(result, out, verdict);
  if (a.json) {
    fmt::print("{}\n", report["verdict"].dump(2));
  } else {
    fmt::print("{}", eval::verdict_text(verdict));
    fmt::print("verdict: {} (exit {})\nreports: {}\n", eval::to_string(verdict.verdict), verdict.exit_code(),
               out.string());
  }
  std::fflush(stdout);
  exit_code() = verdict.exit_code();
}

Registrar reg{"verify", [](CLI::App& app) {
  auto args = std::make_shared<VerifyArgs>();
  auto* sub = app.add_subcommand(
      "verify", "Decide 'the candidate is as capable as the baseline at >= N x less compute' (exit 0/3/4)");
  sub->add_option("--baseline", args->baseline, "NAME=PATH of the baseline (NAME alone with --run)")->required();
  sub->add_option("--candidate", args->candidates, "NAME=PATH of a candidate (repeatable)")->required();
  sub->add_option("--margin", args->margin, "non-inferiority margin delta, in accuracy (default 0.02)");
  sub->add_option("--min-ratio", args->min_ratio, "FLOPs-per-item ratio baseline/candidate the claim needs (default 10)");
  sub->add_option("--suites", args->suites, "all, or a comma-separated list of suite names or folders")
      ->delimiter(',');
  sub->add_option("--split", args->split, "suite split (default test)");
  sub->add_option("--suites-dir", args->suites_dir, "where shipped suite names resolve");
  sub->add_option("--limit", args->limit, "a seeded random subset of N items per suite, stratified by task (0: all)");
  sub->add_option("--seed", args->seed, "seed of the item subset and of the bootstrap");
  add_threads_option(sub, args->threads);
  sub->add_option("--out", args->out, "report folder (default ./tenx-runs/verify-<UTC time>, or the --run folder)");
  sub->add_option("--run", args->run_dir, "decide on a finished run folder instead of running");
  sub->add_flag("--quiet", args->quiet, "no progress output");
  add_remote_options(sub, args->remote);
  sub->add_flag("--json", args->json, "print the verdict as JSON (report.json's \"verdict\")");
  sub->callback([args] { run(*args); });
}};

}  // namespace
}  // namespace tenx::cli
