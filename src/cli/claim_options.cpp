// claim_options.hpp: the claim's options, the plan they make and the plan they must agree with.
#include "claim_options.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <filesystem>

#include "run_common.hpp"
#include "tenx/util/error.hpp"

namespace tenx::cli {
namespace {

std::string list_text(const std::vector<std::string>& v) { return fmt::format("{}", fmt::join(v, ",")); }

std::vector<std::string> names_of(const std::vector<std::string>& models) {
  std::vector<std::string> out;
  for (const std::string& m : models) out.push_back(model_name(m));
  return out;
}

}  // namespace

void add_claim_options(CLI::App* sub, ClaimArgs& a) {
  sub->add_option("--baseline", a.baseline, "NAME=PATH of the baseline (NAME alone with --run or plan init)");
  sub->add_option("--candidate", a.candidates, "NAME=PATH of a candidate (repeatable)");
  sub->add_option("--margin", a.margin, "absolute non-inferiority margin delta, in accuracy (default 0.02)");
  sub->add_option("--margin-relative", a.margin_relative,
                  "preserved-effect margin: the candidate keeps at least a fraction F of the baseline's gain over "
                  "the references, delta = (1 - F) x gain; the verdict then uses it (docs/statistics.md)");
  sub->add_option("--alpha", a.alpha, "one-sided level of every test (default 0.025: 95% two-sided intervals)");
  sub->add_option("--accuracy", a.accuracy, "micro (items, default) or macro (task-balanced) accuracy decides");
  sub->add_option("--compute", a.compute,
                  "the compute of the ratio: flops (inference FLOPs per item, default), params (active "
                  "parameters), latency, memory or training");
  sub->add_option("--min-ratio", a.min_ratio, "ratio baseline/candidate of --compute the claim needs (default 10)");
  sub->add_option("--suites", a.suites, "all, or a comma-separated list of suite names or folders")->delimiter(',');
  sub->add_option("--split", a.split, "suite split (default test)");
  sub->add_option("--limit", a.limit, "a seeded random subset of N items per suite, stratified by task (0: all)");
  sub->add_option("--seed", a.seed, "seed of the item subset and of the bootstrap");
  sub->add_option("--require-tasks", a.require_tasks,
                  "all, or tasks whose own assay sensitivity is part of the verdict (a listed task at the "
                  "baseline's references makes its suite UNINFORMATIVE)")
      ->delimiter(',');
}

void check_claim_args(const ClaimArgs& a) {
  if (!(a.margin > 0.0 && a.margin < 1.0)) throw Error("--margin", fmt::format("must be in (0, 1), got {}", a.margin));
  if (a.margin_relative != 0.0 && !(a.margin_relative > 0.0 && a.margin_relative < 1.0))
    throw Error("--margin-relative", fmt::format("must be in (0, 1), got {}", a.margin_relative));
  if (!(a.alpha > 0.0 && a.alpha < 0.5)) throw Error("--alpha", fmt::format("must be in (0, 0.5), got {}", a.alpha));
  if (a.accuracy != "micro" && a.accuracy != "macro")
    throw Error("--accuracy", fmt::format("must be micro or macro, got '{}'", a.accuracy));
  if (a.compute != "flops" && a.compute != "params" && a.compute != "latency" && a.compute != "memory" &&
      a.compute != "training")
    throw Error("--compute", fmt::format("must be flops, params, latency, memory or training, got '{}'", a.compute));
  if (!(a.min_ratio > 0.0)) throw Error("--min-ratio", fmt::format("must be > 0, got {}", a.min_ratio));
  if (a.limit < 0) throw Error("--limit", "must be >= 0");
}

std::string model_name(const std::string& arg) {
  // A bare PATH is named after its file stem, as parse_model_arg names it for a run.
  const bool path_like = arg.find('=') == std::string::npos &&
                         (arg.find('/') != std::string::npos || std::filesystem::path(arg).has_extension());
  return parse_model_arg(arg, "--baseline", !path_like).name;
}

eval::AnalysisPlan plan_from_args(const ClaimArgs& a) {
  eval::AnalysisPlan p;
  p.claim = a.claim;
  p.baseline = model_name(a.baseline);
  p.candidates = names_of(a.candidates);
  p.suites = a.suites;
  p.split = a.split;
  p.require_tasks = a.require_tasks;
  p.margin = a.margin;
  if (a.margin_relative > 0.0) {
    p.margin_type = "relative";
    p.margin_relative = a.margin_relative;
  }
  p.alpha = a.alpha;
  p.accuracy = a.accuracy;
  p.compute = a.compute;
  p.min_ratio = a.min_ratio;
  p.seed = a.seed;
  p.limit = a.limit;
  p.protocol = a.protocol;
  p.bootstrap_resamples = a.bootstrap_resamples;
  return p;
}

void apply_plan(const eval::AnalysisPlan& p, const std::string& file, const CLI::App& sub, ClaimArgs& a) {
  auto given = [&](const char* opt) { return sub.count(opt) > 0; };
  auto differs = [&](const char* opt, const std::string& ours, const std::string& plans) {
    throw Error(file, fmt::format("{} is {} on the command line but the plan says {}: a pre-registered claim cannot "
                                  "change after the fact (edit the plan, which changes its SHA-256, or drop the option)",
                                  opt, ours, plans));
  };
  auto number = [&](const char* opt, double& ours, double plans) {
    if (!given(opt)) ours = plans;
    else if (std::abs(ours - plans) > 1e-12 * std::max(1.0, std::abs(plans))) differs(opt, fmt::format("{:g}", ours), fmt::format("{:g}", plans));
  };
  auto text = [&](const char* opt, std::string& ours, const std::string& plans) {
    if (!given(opt)) ours = plans;
    else if (ours != plans) differs(opt, "'" + ours + "'", "'" + plans + "'");
  };
  auto list = [&](const char* opt, std::vector<std::string>& ours, const std::vector<std::string>& plans) {
    if (!given(opt)) ours = plans;
    else if (ours != plans) differs(opt, "'" + list_text(ours) + "'", "'" + list_text(plans) + "'");
  };
  if (!given("--baseline")) a.baseline = p.baseline;
  else if (model_name(a.baseline) != p.baseline) differs("--baseline", "'" + model_name(a.baseline) + "'", "'" + p.baseline + "'");
  if (!given("--candidate")) a.candidates = p.candidates;
  else if (names_of(a.candidates) != p.candidates)
    differs("--candidate", "'" + list_text(names_of(a.candidates)) + "'", "'" + list_text(p.candidates) + "'");
  number("--margin", a.margin, p.margin);
  const double rel = p.margin_type == "relative" ? p.margin_relative.value_or(0.0) : 0.0;
  if (!given("--margin-relative")) a.margin_relative = rel;
  else if (rel == 0.0) differs("--margin-relative", fmt::format("{:g}", a.margin_relative), "an absolute margin");
  else number("--margin-relative", a.margin_relative, rel);
  number("--alpha", a.alpha, p.alpha);
  text("--accuracy", a.accuracy, p.accuracy);
  text("--compute", a.compute, p.compute);
  number("--min-ratio", a.min_ratio, p.min_ratio);
  list("--suites", a.suites, p.suites);
  text("--split", a.split, p.split);
  if (given("--limit") && a.limit != p.limit) differs("--limit", std::to_string(a.limit), std::to_string(p.limit));
  if (given("--seed") && a.seed != p.seed) differs("--seed", std::to_string(a.seed), std::to_string(p.seed));
  a.limit = p.limit;
  a.seed = p.seed;
  a.bootstrap_resamples = p.bootstrap_resamples;
  list("--require-tasks", a.require_tasks, p.require_tasks);
}

eval::VerifySpec verify_spec(const ClaimArgs& a) {
  eval::VerifySpec s;
  s.baseline = model_name(a.baseline);
  s.candidates = names_of(a.candidates);
  s.margin = a.margin;
  if (a.margin_relative > 0.0) s.margin_relative = a.margin_relative;
  s.confidence = 1.0 - 2.0 * a.alpha;
  s.accuracy = a.accuracy;
  s.compute = a.compute;
  s.min_ratio = a.min_ratio;
  s.seed = a.seed;
  s.require_tasks = a.require_tasks;
  s.bootstrap_resamples = a.bootstrap_resamples;
  return s;
}

}  // namespace tenx::cli
