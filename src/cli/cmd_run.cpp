// tenx run --model NAME=PATH [--model ...] --suites all|LIST [--split test] [--limit N --seed S]
//          [--shard I/N] [--threads T] [--batch K] [--protocol completion|chat] [--shots K] [--out DIR | --resume DIR] [--quiet] [--formats json,csv,md,svg,html,console]
// Every model on the same items (eval/runner.hpp), then the reports (eval/report.hpp) and a short
// accuracy table on stdout (the console writer, report_writer.hpp). Progress goes to stderr: a redrawn bar on a terminal, one line per
// model × suite otherwise, nothing with --quiet.
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <tuple>
#include <utility>

#include "command.hpp"
#include "common.hpp"
#include "run_common.hpp"
#include "tenx/eval/report/report.hpp"
#include "tenx/eval/report/report_writer.hpp"
#include "tenx/eval/run/runner.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/process.hpp"

namespace tenx::cli {
namespace {

namespace fs = std::filesystem;

struct RunArgs {
  std::vector<std::string> models;
  std::string suites = "all";
  std::string suites_dir;
  std::string split = "test";
  int64_t limit = 0;
  uint64_t seed = 0;
  std::string shard;  // I/N
  int threads = 1;
  int batch = 0;
  std::string protocol;
  std::string tool_format;  // --tool-format: "" = detected from each model's template
  std::string choice_method;  // --choice-method: "" = letter over a chat API, else loglik
  int shots = 0;
  std::string out, resume;
  bool quiet = false;
  std::string formats = "all";
  RemoteArgs remote;
  std::vector<std::string> mmproj;  // --mmproj NAME=FILE
};

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ','))
    if (!part.empty()) out.push_back(part);
  return out;
}

std::vector<std::string> command_line(const RunArgs& a) {
  std::vector<std::string> v = {"tenx", "run"};
  for (const auto& m : a.models) v.insert(v.end(), {"--model", m});
  v.insert(v.end(), {"--suites", a.suites, "--split", a.split, "--limit", std::to_string(a.limit), "--seed",
                     std::to_string(a.seed), "--threads", std::to_string(a.threads)});
  if (a.batch > 0) v.insert(v.end(), {"--batch", std::to_string(a.batch)});
  if (!a.tool_format.empty()) v.insert(v.end(), {"--tool-format", a.tool_format});
  if (!a.choice_method.empty()) v.insert(v.end(), {"--choice-method", a.choice_method});
  if (!a.protocol.empty()) v.insert(v.end(), {"--protocol", a.protocol});
  if (a.shots > 0) v.insert(v.end(), {"--shots", std::to_string(a.shots)});
  if (!a.shard.empty()) v.insert(v.end(), {"--shard", a.shard});
  if (!a.suites_dir.empty()) v.insert(v.end(), {"--suites-dir", a.suites_dir});
  if (!a.out.empty()) v.insert(v.end(), {"--out", a.out});
  if (!a.resume.empty()) v.insert(v.end(), {"--resume", a.resume});
  return v;
}

// --shard I/N: 1 <= I <= N, both plain decimal numbers (a 0-based index from a scheduler is
// written $((INDEX + 1))/N; docs/ci.md).
std::pair<int, int> parse_shard(const std::string& text) {
  const auto bad = [&] { return Error("--shard", fmt::format("expected I/N with 1 <= I <= N, got '{}'", text)); };
  const auto slash = text.find('/');
  if (slash == std::string::npos) throw bad();
  auto number = [&](const std::string& part) {
    if (part.empty() || part.size() > 9 || part.find_first_not_of("0123456789") != std::string::npos) throw bad();
    return std::stoi(part);
  };
  const int index = number(text.substr(0, slash)), count = number(text.substr(slash + 1));
  if (count < 1 || index < 1 || index > count) throw bad();
  return {index, count};
}

void run(const RunArgs& a) {
  if (a.models.empty()) throw Error("--model", "give at least one model as NAME=PATH");
  eval::ReportOptions report_options;
  report_options.formats = eval::parse_report_formats(a.formats);  // a bad name fails before any work
  report_options.console = stdout;
  if (!a.out.empty() && !a.resume.empty() && fs::path(a.out) != fs::path(a.resume))
    throw Error("--resume", "--out and --resume name different folders; give one");
  eval::RunOptions o;
  for (const auto& m : a.models) o.models.push_back(parse_model_arg(m, "--model"));
  o.suites = split_list(a.suites);
  o.suites_dir = a.suites_dir;
  o.split = a.split;
  o.limit = a.limit;
  o.seed = a.seed;
  if (!a.shard.empty()) std::tie(o.shard_index, o.shard_count) = parse_shard(a.shard);
  o.threads = a.threads;
  o.batch = a.batch;
  o.protocol = a.protocol;
  o.tool_format = a.tool_format;
  o.choice_method = a.choice_method;
  o.shots = a.shots;
  o.resume = !a.resume.empty();
  o.out_dir = o.resume ? fs::path(a.resume) : (a.out.empty() ? default_run_dir("run") : fs::path(a.out));
  o.quiet = a.quiet;
  o.argv = command_line(a);
  apply_remote_options(a.remote, o);
  apply_mmproj_option(a.mmproj, o);
  if (!a.quiet) fmt::print(stderr, "tenx run: run folder {}\n", o.out_dir.string());
  const eval::RunResult result = eval::run_evaluation(o, run_progress_printer(a.quiet));
  eval::write_reports(result, o.out_dir, report_options);  // the table on stdout is the console writer
  if (!a.quiet) fmt::print(stderr, "reports: {}\n", o.out_dir.string());
}

const Registrar run_command{"run", [](CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  auto* sub = app.add_subcommand("run", "Evaluate models on the same suite items (journaled, resumable)");
  sub->add_option("--model", args->models, "NAME=PATH of a GGUF file or Hugging Face folder, or NAME=http(s)://HOST:PORT/v1#model=ID (repeat)")->required();
  sub->add_option("--suites", args->suites, "'all' or a comma-separated list of suite names or folders")
      ->capture_default_str();
  sub->add_option("--suites-dir", args->suites_dir, "Where suite names resolve (default: the shipped suites)");
  sub->add_option("--split", args->split, "Split to evaluate")->capture_default_str();
  sub->add_option("--limit", args->limit, "Evaluate a seeded subset of N items per suite, stratified by task (0: all)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  sub->add_option("--seed", args->seed, "Seed of the --limit subset")->capture_default_str();
  sub->add_option("--shard", args->shard,
                  "I/N: evaluate part I (1-based) of N of the items, stratified by task like --limit; join the N "
                  "run folders with tenx merge (docs/ci.md)");
  add_threads_option(sub, args->threads);
  add_batch_option(sub, args->batch);
  sub->add_option("--protocol", args->protocol,
                  "completion or chat: how items are put to the model (default: chat for a model with a chat "
                  "template, else completion; docs/protocols.md)")
      ->check(CLI::IsMember({"completion", "chat"}));
  sub->add_option("--tool-format", args->tool_format,
                  "how agent items call tools under chat: tenx, atem, hermes, llama3-json, mistral or harmony "
                  "(default: detected from each model's template; docs/tool-calls.md)");
  sub->add_option("--choice-method", args->choice_method,
                  "loglik or letter: how choice items are scored, by each choice's log-likelihood or by the letter "
                  "a lettered prompt's reply names (default: letter for a remote chat API, else loglik; "
                  "docs/protocols.md)")
      ->check(CLI::IsMember({"loglik", "letter"}));
  sub->add_option("--shots", args->shots,
                  "K worked examples per choice/generate item from the suite's train split, drawn with --seed")
      ->check(CLI::Range(0, 64));
  sub->add_option("--out", args->out, "Run folder (default: tenx-runs/run-<UTC time>); must be new or empty");
  sub->add_option("--resume", args->resume, "Continue the run in this folder after an interruption");
  sub->add_flag("-q,--quiet", args->quiet, "No progress output");
  add_formats_option(sub, args->formats);
  add_remote_options(sub, args->remote);
  add_mmproj_option(sub, args->mmproj);
  sub->callback([args] { run(*args); });
}};

}  // namespace
}  // namespace tenx::cli
