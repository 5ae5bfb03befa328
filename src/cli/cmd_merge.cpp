// tenx merge RUN_DIR... --out DIR [--formats ...] [--quiet]: joins the folders of `tenx run --shard
// I/N` (docs/ci.md) into one run folder, checked to belong together (eval/run/merge.hpp), and
// writes the reports as `tenx run` would (report_writer.hpp). Exit 2 when they do not belong
// together, naming the folder and what differs.
#include <fmt/format.h>

#include <filesystem>

#include "command.hpp"
#include "run_common.hpp"
#include "tenx/eval/report/report.hpp"
#include "tenx/eval/report/report_writer.hpp"
#include "tenx/eval/run/merge.hpp"
#include "tenx/eval/run/runner.hpp"
#include "tenx/util/error.hpp"

namespace tenx::cli {
namespace {

namespace fs = std::filesystem;

struct MergeArgs {
  std::vector<std::string> shards;
  std::string out;
  std::string formats = "all";
  bool quiet = false;
};

void merge(const MergeArgs& a) {
  eval::ReportOptions report_options;
  report_options.formats = eval::parse_report_formats(a.formats);  // a bad name fails before any work
  report_options.console = a.quiet ? nullptr : stdout;
  if (a.out.empty()) throw Error("--out", "a folder for the merged run is needed");
  std::vector<eval::ShardRun> shards;
  for (const std::string& dir : a.shards) {
    if (fs::path(dir) == fs::path(a.out)) throw Error(dir, "is also the --out folder; merge into a new folder");
    shards.push_back({dir, eval::read_run(dir)});
  }
  const eval::RunResult merged = eval::merge_shards(shards, a.out);
  // Machines of other SIMD flags run other kernels (docs/ci.md): the records are each machine's,
  // equal to one run's only up to the last digits of a log-likelihood. Said, not refused: a CI
  // matrix does not choose its machines.
  for (const eval::ShardRun& s : shards)
    if (s.run.manifest.cpu_flags != shards[0].run.manifest.cpu_flags) {
      fmt::print(stderr,
                 "tenx merge: warning: the shards ran on CPUs of different SIMD flags ({}: '{}'; {}: '{}'); their "
                 "log-likelihoods may differ from one machine's in the last digits\n",
                 shards[0].dir.string(), shards[0].run.manifest.cpu_flags, s.dir.string(), s.run.manifest.cpu_flags);
      break;
    }
  eval::write_merged_run(merged, a.out);
  eval::write_reports(merged, a.out, report_options);
  if (!a.quiet)
    fmt::print(stderr, "tenx merge: {} shards, {} records -> {}\n", shards.size(), merged.records.size(), a.out);
}

const Registrar merge_command{"merge", [](CLI::App& app) {
  auto args = std::make_shared<MergeArgs>();
  auto* sub = app.add_subcommand("merge", "Join the run folders of tenx run --shard I/N into one run and its reports");
  sub->add_option("runs", args->shards, "the N shard run folders (any order)")->required();
  sub->add_option("--out", args->out, "the merged run folder (new or empty)")->required();
  sub->add_flag("-q,--quiet", args->quiet, "no table or summary output");
  add_formats_option(sub, args->formats);
  sub->callback([args] { merge(*args); });
}};

}  // namespace
}  // namespace tenx::cli
