// tenx run --model NAME=PATH [--model ...] --suites all|LIST [--split test] [--limit N --seed S]
//          [--threads T] [--out DIR | --resume DIR] [--quiet]
// Every model on the same items (eval/runner.hpp), then the reports (eval/report.hpp) and a short
// accuracy table on stdout. Progress goes to stderr: a redrawn bar on a terminal, one line per
// model × suite otherwise, nothing with --quiet.
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>

#include "command.hpp"
#include "common.hpp"
#include "run_common.hpp"
#include "tenx/eval/report/report.hpp"
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
  int threads = 1;
  std::string out, resume;
  bool quiet = false;
  RemoteArgs remote;
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
  if (!a.suites_dir.empty()) v.insert(v.end(), {"--suites-dir", a.suites_dir});
  if (!a.out.empty()) v.insert(v.end(), {"--out", a.out});
  if (!a.resume.empty()) v.insert(v.end(), {"--resume", a.resume});
  return v;
}

// Per model × suite: items, N/A, errors, accuracy (and acc_norm for suites with choice items).
void print_table(const eval::RunResult& run) {
  struct Cell {
    int64_t items = 0, na = 0, errors = 0, correct = 0, choice = 0, correct_norm = 0;
    double flops = 0;
  };
  std::map<std::pair<std::string, std::string>, Cell> cells;
  std::vector<std::pair<std::string, std::string>> order;
  for (const eval::ItemRecord& r : run.records) {
    auto key = std::make_pair(r.model, r.suite);
    if (!cells.count(key)) order.push_back(key);
    Cell& c = cells[key];
    ++c.items;
    if (!r.applicable) {
      ++c.na;
      continue;
    }
    c.errors += r.error.empty() ? 0 : 1;
    c.correct += r.correct ? 1 : 0;
    c.flops += static_cast<double>(r.flops);
    if (r.type == "choice") {
      ++c.choice;
      c.correct_norm += r.correct_norm ? 1 : 0;
    }
  }
  fmt::print("{:<16} {:<12} {:>7} {:>6} {:>8} {:>9} {:>12}\n", "model", "suite", "items", "N/A", "acc", "acc_norm",
             "FLOPs/item");
  for (const auto& key : order) {
    const Cell& c = cells[key];
    const int64_t scored = c.items - c.na;
    const std::string acc = scored ? fmt::format("{:.3f}", static_cast<double>(c.correct) / static_cast<double>(scored)) : "n/a";
    const std::string norm =
        c.choice ? fmt::format("{:.3f}", static_cast<double>(c.correct_norm) / static_cast<double>(c.choice))
                 : "-";
    const std::string flops = scored ? human_count(c.flops / static_cast<double>(scored)) : "-";
    fmt::print("{:<16} {:<12} {:>7} {:>6} {:>8} {:>9} {:>12}\n", key.first, key.second, c.items, c.na, acc, norm, flops);
    if (c.errors) fmt::print("  ({} items did not fit the context and count as wrong)\n", c.errors);
  }
}

void run(const RunArgs& a) {
  if (a.models.empty()) throw Error("--model", "give at least one model as NAME=PATH");
  if (!a.out.empty() && !a.resume.empty() && fs::path(a.out) != fs::path(a.resume))
    throw Error("--resume", "--out and --resume name different folders; give one");
  eval::RunOptions o;
  for (const auto& m : a.models) o.models.push_back(parse_model_arg(m, "--model"));
  o.suites = split_list(a.suites);
  o.suites_dir = a.suites_dir;
  o.split = a.split;
  o.limit = a.limit;
  o.seed = a.seed;
  o.threads = a.threads;
  o.resume = !a.resume.empty();
  o.out_dir = o.resume ? fs::path(a.resume) : (a.out.empty() ? default_run_dir("run") : fs::path(a.out));
  o.quiet = a.quiet;
  o.argv = command_line(a);
  apply_remote_options(a.remote, o);
  if (!a.quiet) fmt::print(stderr, "tenx run: run folder {}\n", o.out_dir.string());
  const eval::RunResult result = eval::run_evaluation(o, run_progress_printer(a.quiet));
  eval::write_reports(result, o.out_dir);
  print_table(result);
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
  add_threads_option(sub, args->threads);
  sub->add_option("--out", args->out, "Run folder (default: tenx-runs/run-<UTC time>); must be new or empty");
  sub->add_option("--resume", args->resume, "Continue the run in this folder after an interruption");
  sub->add_flag("-q,--quiet", args->quiet, "No progress output");
  add_remote_options(sub, args->remote);
  sub->callback([args] { run(*args); });
}};

}  // namespace
}  // namespace tenx::cli
