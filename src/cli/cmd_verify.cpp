// tenx verify --baseline NAME=PATH --candidate NAME=PATH [...]: runs the baseline and the
// candidates on the same items (or reads a finished run with --run), decides the claim "as
// capable at >= min-ratio x less compute" (claim.hpp), writes the report folder and exits
// 0 supported, 3 not supported, 4 inconclusive, 5 uninformative, 2 bad input (docs/report.md).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "command.hpp"
#include "common.hpp"
#include "claim_options.hpp"
#include "run_common.hpp"
#include "tenx/eval/report/claim_report.hpp"
#include "tenx/eval/report/report.hpp"
#include "tenx/eval/report/report_writer.hpp"
#include "tenx/eval/run/protocol.hpp"
#include "tenx/eval/stats/claim.hpp"
#include "tenx/eval/stats/plan.hpp"
#include "tenx/suites/suite_io.hpp"
#include "tenx/util/error.hpp"

namespace tenx::cli {
namespace {

namespace fs = std::filesystem;

struct VerifyArgs {
  ClaimArgs claim;
  std::string suites_dir;
  int threads = 1;
  int batch = 0;
  std::string protocol;
  std::string tool_format;  // --tool-format: "" = detected from each model's template
  std::string choice_method;  // --choice-method: "" = letter over a chat API, else loglik
  int shots = 0;
  bool allow_protocol_mismatch = false;
  std::string out, run_dir, plan;
  std::string formats = "all";
  bool quiet = false, json = false;
  RemoteArgs remote;
  std::vector<std::string> mmproj;  // --mmproj NAME=FILE
};

// The command as parsed, recorded in run.json (CLI11 does not keep the raw argv).
std::vector<std::string> command_line(const VerifyArgs& v) {
  const ClaimArgs& a = v.claim;
  std::vector<std::string> out = {"tenx", "verify", "--baseline", a.baseline};
  for (const auto& c : a.candidates) out.insert(out.end(), {"--candidate", c});
  std::string suites;
  for (const auto& s : a.suites) suites += (suites.empty() ? "" : ",") + s;
  out.insert(out.end(), {"--margin", fmt::format("{}", a.margin), "--min-ratio", fmt::format("{}", a.min_ratio),
                         "--suites", suites, "--split", a.split, "--limit", std::to_string(a.limit), "--seed",
                         std::to_string(a.seed), "--threads", std::to_string(v.threads)});
  if (v.batch > 0) out.insert(out.end(), {"--batch", std::to_string(v.batch)});
  if (!v.tool_format.empty()) out.insert(out.end(), {"--tool-format", v.tool_format});
  if (!v.choice_method.empty()) out.insert(out.end(), {"--choice-method", v.choice_method});
  if (!v.protocol.empty()) out.insert(out.end(), {"--protocol", v.protocol});
  if (v.shots > 0) out.insert(out.end(), {"--shots", std::to_string(v.shots)});
  if (v.allow_protocol_mismatch) out.push_back("--allow-protocol-mismatch");
  if (a.margin_relative > 0) out.insert(out.end(), {"--margin-relative", fmt::format("{}", a.margin_relative)});
  if (a.alpha != 0.025) out.insert(out.end(), {"--alpha", fmt::format("{}", a.alpha)});
  if (a.accuracy != "micro") out.insert(out.end(), {"--accuracy", a.accuracy});
  if (a.compute != "flops") out.insert(out.end(), {"--compute", a.compute});
  if (!v.plan.empty()) out.insert(out.end(), {"--plan", v.plan});
  if (!v.out.empty()) out.insert(out.end(), {"--out", v.out});
  return out;
}

// Shipped suites the claim leaves out: named in the report so a reader sees what was not claimed.
std::vector<std::string> left_out(const eval::RunResult& run, const std::string& suites_dir) {
  std::vector<std::string> out;
  std::error_code ec;
  const fs::path dir = suites::shipped_suites_dir(suites_dir);
  if (!fs::is_directory(dir, ec)) return out;
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (fs::exists(e.path() / "suite.json")) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    bool in_run = false;
    for (const auto& s : run.manifest.suites) in_run = in_run || s.name == n;
    if (!in_run) out.push_back(n);
  }
  return out;
}

// --suites with --run: the claim is on the named suites of the finished run; the others are left
// out of the verdict and the reports (and named as left out).
void restrict_to(eval::RunResult& run, const std::vector<std::string>& names, const std::string& run_dir) {
  std::vector<eval::SuiteRef> kept;
  for (const std::string& n : names) {
    auto it = std::find_if(run.manifest.suites.begin(), run.manifest.suites.end(),
                           [&](const eval::SuiteRef& s) { return s.name == n; });
    if (it == run.manifest.suites.end()) throw Error("--suites", fmt::format("the run {} has no suite '{}'", run_dir, n));
    kept.push_back(*it);
  }
  run.manifest.suites = kept;
  std::erase_if(run.records, [&](const eval::ItemRecord& r) {
    return std::find(names.begin(), names.end(), r.suite) == names.end();
  });
  std::erase_if(run.manifest.selected_items, [&](const auto& kv) {
    return std::find(names.begin(), names.end(), kv.first) == names.end();
  });
}

void run(VerifyArgs& v, const CLI::App& sub) {
  std::string plan_sha;
  if (!v.plan.empty()) {
    const eval::LoadedPlan plan = eval::load_plan(v.plan);
    apply_plan(plan.plan, v.plan, sub, v.claim);
    plan_sha = plan.sha256;
  }
  const ClaimArgs& a = v.claim;
  check_claim_args(a);
  eval::ReportOptions report_options;
  report_options.formats = eval::parse_report_formats(v.formats);  // a bad name fails before any work
  if (a.baseline.empty()) throw Error("--baseline", "give the baseline (NAME=PATH, or NAME with --run)");
  if (a.candidates.empty()) throw Error("--candidate", "give at least one candidate");
  const bool from_run = !v.run_dir.empty();
  const eval::ModelArg base = parse_model_arg(a.baseline, "--baseline", from_run);
  std::vector<eval::ModelArg> cands;
  for (const std::string& c : a.candidates) cands.push_back(parse_model_arg(c, "--candidate", from_run));

  eval::VerifySpec spec = verify_spec(a);
  spec.baseline = base.name;
  spec.candidates.clear();
  for (const auto& c : cands) spec.candidates.push_back(c.name);
  spec.plan_path = v.plan;
  spec.plan_sha256 = plan_sha;

  eval::RunResult result;
  fs::path out;
  if (from_run) {
    result = eval::read_run(v.run_dir);
    out = v.out.empty() ? fs::path(v.run_dir) : fs::path(v.out);
    if (!(a.suites.size() == 1 && a.suites[0] == "all")) restrict_to(result, a.suites, v.run_dir);
  } else {
    out = v.out.empty() ? default_run_dir("verify") : fs::path(v.out);
    if (!v.quiet) fmt::print(stderr, "tenx verify: run folder {}\n", out.string());
    eval::RunOptions o;
    o.models.push_back(base);
    for (const auto& c : cands) o.models.push_back(c);
    o.suites = a.suites;
    o.split = a.split;
    o.suites_dir = v.suites_dir;
    o.limit = a.limit;
    o.seed = a.seed;
    o.threads = v.threads;
    o.batch = v.batch;
    o.protocol = v.protocol;
    o.tool_format = v.tool_format;
    o.choice_method = v.choice_method;
    o.shots = v.shots;
    o.out_dir = out;
    o.quiet = v.quiet;
    o.argv = command_line(v);
    apply_remote_options(v.remote, o);
  apply_mmproj_option(v.mmproj, o);
    result = eval::run_evaluation(o, run_progress_printer(v.quiet));
  }
  if (!v.plan.empty() && from_run) {
    // A finished run decided under a plan must be the run the plan describes.
    const eval::RunManifest& m = result.manifest;
    if (m.limit != a.limit || m.seed != a.seed)
      throw Error(v.plan, fmt::format("the run {} has limit {} and seed {}, the plan limit {} and seed {}", v.run_dir,
                                      m.limit, m.seed, a.limit, a.seed));
  }
  // Models prompted differently are not compared unless asked (docs/protocols.md).
  const std::string mismatch = eval::protocol_mismatch(result.manifest, spec.baseline, spec.candidates);
  if (!mismatch.empty()) {
    if (!v.allow_protocol_mismatch)
      throw Error("tenx verify", mismatch + "the models were prompted differently; run them under one --protocol, "
                                            "or compare anyway with --allow-protocol-mismatch" +
                                            (from_run ? std::string() : " (the run is kept: tenx verify --run " +
                                                                            out.string() + " ... decides on it)"));
    if (!v.quiet) fmt::print(stderr, "tenx verify: comparing across protocols (--allow-protocol-mismatch): {}", mismatch);
  }
  spec.left_out = left_out(result, v.suites_dir);
  const eval::ReferenceTable refs = eval::load_references(result.manifest);
  const eval::ClaimVerdict verdict = eval::verify_claim(result, spec, refs);
  const eval::Json report = eval::write_reports(result, out, verdict, report_options);
  if (v.json) {
    fmt::print("{}\n", report["verdict"].dump(2));
  } else {
    fmt::print("{}", eval::verdict_text(verdict));
    fmt::print("verdict: {} (exit {})\nreports: {}\n", eval::to_string(verdict.verdict), verdict.exit_code(),
               out.string());
  }
  std::fflush(stdout);
  exit_code() = verdict.exit_code();
}

const Registrar verify_command{"verify", [](CLI::App& app) {
  auto args = std::make_shared<VerifyArgs>();
  auto* sub = app.add_subcommand(
      "verify",
      "Decide 'the candidate is as capable as the baseline at >= N x less compute' (exit 0/3/4/5)");
  add_claim_options(sub, args->claim);
  sub->add_option("--plan", args->plan,
                  "a pre-registered analysis plan (tenx plan init): its options apply, a differing option on the "
                  "command line is refused, its SHA-256 goes into report.json");
  sub->add_option("--suites-dir", args->suites_dir, "where shipped suite names resolve");
  add_threads_option(sub, args->threads);
  add_batch_option(sub, args->batch);
  sub->add_option("--protocol", args->protocol,
                  "completion or chat (default: chat for a model with a chat template, else completion; "
                  "docs/protocols.md)")
      ->check(CLI::IsMember({"completion", "chat"}));
  sub->add_option("--tool-format", args->tool_format,
                  "how agent items call tools under chat: tenx, atem, hermes, llama3-json, mistral or harmony "
                  "(default: detected from each model's template; docs/tool-calls.md)");
  sub->add_option("--choice-method", args->choice_method,
                  "loglik or letter: how choice items are scored (default: letter for a remote chat API, else "
                  "loglik; docs/protocols.md)")
      ->check(CLI::IsMember({"loglik", "letter"}));
  sub->add_option("--shots", args->shots, "K worked examples per choice/generate item from the train split")
      ->check(CLI::Range(0, 64));
  sub->add_flag("--allow-protocol-mismatch", args->allow_protocol_mismatch,
                "compare models that ran under different protocols (refused otherwise)");
  sub->add_option("--out", args->out, "report folder (default ./tenx-runs/verify-<UTC time>, or the --run folder)");
  sub->add_option("--run", args->run_dir, "decide on a finished run folder instead of running");
  sub->add_flag("--quiet", args->quiet, "no progress output");
  add_formats_option(sub, args->formats);
  add_remote_options(sub, args->remote);
  add_mmproj_option(sub, args->mmproj);
  sub->add_flag("--json", args->json, "print the verdict as JSON (report.json's \"verdict\")");
  sub->callback([args, sub] { run(*args, *sub); });
}};

}  // namespace
}  // namespace tenx::cli
