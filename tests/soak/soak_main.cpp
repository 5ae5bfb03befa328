// tenx_soak: the evaluation `tenx run` does (eval::run_evaluation + eval::write_reports), repeated
// N times in one process, with per iteration the wall time, peak and current RSS, open file
// descriptors and a digest of the results (soak_check.hpp). Exit 0 when every digest equals the
// first, descriptors do not grow and RSS stays flat; 1 otherwise; 2 on bad input.
//
//   tenx_soak --model compact=data/models/compact.gguf --model baseline=data/models/baseline.gguf
//             --suites all --iterations 3 --threads 2
//   tenx_soak --compare REFERENCE_RUN_DIR OTHER_RUN_DIR   (the kill loop's comparison; exit 1 if they differ)
#include <algorithm>
#include <malloc.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "soak/soak_check.hpp"
#include "tenx/eval/report/report.hpp"
#include "tenx/eval/run/runner.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/process.hpp"

namespace tenx::soak {
namespace {

namespace fs = std::filesystem;

struct Args {
  std::vector<std::string> models;
  std::string suites = "all", suites_dir, split = "test";
  int64_t limit = 0;
  uint64_t seed = 0;
  int iterations = 3, threads = 1, batch = 0;
  std::string work, report;
  bool keep = false, json = false;
  double rss_fraction = 0.05, rss_slack_mib = 4;
  std::vector<std::string> compare;
};

uint64_t maxrss_bytes() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<uint64_t>(u.ru_maxrss) * 1024;  // Linux: KiB
}

int64_t open_fds() {
  int64_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
  return n - 1;  // the iterator's own descriptor
}

// Diagnostics for a failing soak: bytes malloc hands out (a leak grows it; fragmentation grows
// only RSS) and memory mappings (a model mapped and never unmapped grows them).
uint64_t heap_in_use_bytes() {
  const struct mallinfo2 m = ::mallinfo2();
  return static_cast<uint64_t>(m.uordblks + m.hblkhd);  // small chunks in arenas + large mmap()ed ones
}

int64_t mappings() {
  std::ifstream maps("/proc/self/maps");
  int64_t n = 0;
  for (std::string line; std::getline(maps, line);) ++n;
  return n;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ','))
    if (!part.empty()) out.push_back(part);
  return out;
}

eval::ModelArg model_arg(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
    throw Error("--model", "expected NAME=PATH, got '" + text + "'");
  return {text.substr(0, eq), text.substr(eq + 1)};
}

fs::path fresh_work_dir(const std::string& given) {
  if (!given.empty()) {
    fs::create_directories(given);
    return given;
  }
  std::string templ = (fs::temp_directory_path() / "tenx-soak-XXXXXX").string();
  if (!::mkdtemp(templ.data())) throw Error(templ, "cannot create a temporary folder");
  return templ;
}

Json iteration_json(const Iteration& x) {
  return {{"iteration", x.index},         {"seconds", x.seconds},
          {"records", x.records},         {"peak_rss_bytes", x.peak_rss_bytes},
          {"current_rss_bytes", x.current_rss_bytes}, {"open_fds", x.open_fds},
          {"untrimmed_rss_bytes", x.untrimmed_rss_bytes}, {"heap_in_use_bytes", x.heap_in_use_bytes},
          {"mappings", x.mappings},
          {"digest", x.digest}};
}

void print_table(const std::vector<Iteration>& its) {
  auto mib = [](uint64_t b) { return static_cast<double>(b) / (1 << 20); };
  fmt::print("{:>4} {:>8} {:>7} {:>8} {:>9} {:>8} {:>9} {:>4} {:>5}  {}\n", "iter", "seconds", "records", "peak MiB",
             "RSS0 MiB", "RSS MiB", "heap KiB", "fds", "maps", "results sha256");
  for (const Iteration& x : its)
    fmt::print("{:>4} {:>8.2f} {:>7} {:>8.1f} {:>9.1f} {:>8.1f} {:>9.1f} {:>4} {:>5}  {}\n", x.index, x.seconds, x.records,
               mib(x.peak_rss_bytes), mib(x.untrimmed_rss_bytes), mib(x.current_rss_bytes),
               static_cast<double>(x.heap_in_use_bytes) / 1024, x.open_fds, x.mappings, x.digest.substr(0, 16));
  fmt::print("peak: getrusage high-water mark; RSS0: VmRSS after the iteration; RSS: VmRSS after malloc_trim(0);\n"
             "heap: bytes malloc has handed out (mallinfo2 uordblks + hblkhd); maps: lines of /proc/self/maps\n");
}

int compare_runs(const std::string& reference, const std::string& other) {
  const eval::RunResult want = eval::read_run(reference), got = eval::read_run(other);
  const std::vector<std::string> diffs = run_differences(want, got);
  for (const std::string& d : diffs) fmt::print("{}\n", d);
  fmt::print("{} records compared ({}), digest {} vs {}: {}\n", want.records.size(), reference, results_digest(want),
             results_digest(got), diffs.empty() ? "SAME" : "DIFFERENT");
  return diffs.empty() ? 0 : 1;
}

int soak(const Args& a) {
  if (a.models.empty()) throw Error("--model", "give at least one model as NAME=PATH (or --compare A B)");
  eval::RunOptions o;
  for (const std::string& m : a.models) o.models.push_back(model_arg(m));
  o.suites = split_list(a.suites);
  o.suites_dir = a.suites_dir;
  o.split = a.split;
  o.limit = a.limit;
  o.seed = a.seed;
  o.threads = a.threads;
  o.batch = a.batch;
  o.quiet = true;
  o.argv = {"tenx_soak"};
  const fs::path work = fresh_work_dir(a.work);
  FlatLimits limits;
  limits.fraction = a.rss_fraction;
  limits.slack_bytes = static_cast<uint64_t>(a.rss_slack_mib * (1 << 20));

  // Allocated up front, so the soak's own bookkeeping does not show as heap growth.
  std::vector<Iteration> its(static_cast<size_t>(a.iterations));
  for (Iteration& x : its) x.digest.reserve(64);
  for (int k = 1; k <= a.iterations; ++k) {
    Iteration& x = its[static_cast<size_t>(k - 1)];
    x.index = k;
    o.out_dir = work / fmt::format("iteration-{}", k);
    const double t0 = now_seconds();
    {
      const eval::RunResult run = eval::run_evaluation(o);
      eval::write_reports(run, o.out_dir);
      x.records = run.records.size();
      x.digest.assign(results_digest(run));
    }
    x.seconds = now_seconds() - t0;
    if (!a.keep) fs::remove_all(o.out_dir);
    x.untrimmed_rss_bytes = current_rss_bytes();
    // glibc keeps freed memory in its arenas (fragmentation, not a leak): give it back first, so the
    // RSS compared is what the process still holds; heap_in_use is what it still has allocated.
    ::malloc_trim(0);
    x.current_rss_bytes = current_rss_bytes();
    // getrusage's high-water mark follows the kernel's batched RSS counters and can trail a VmRSS
    // read a moment earlier by a few pages (seen under ASan): the peak is at least what we read.
    x.peak_rss_bytes = std::max({maxrss_bytes(), x.untrimmed_rss_bytes, x.current_rss_bytes});
    x.heap_in_use_bytes = heap_in_use_bytes();
    x.open_fds = open_fds();
    x.mappings = mappings();
    fmt::print(stderr, "tenx_soak: iteration {}/{}: {} records in {:.1f} s, RSS {:.1f} MiB, heap {:.2f} MiB, {} fds\n", k,
               a.iterations, x.records, x.seconds, static_cast<double>(x.current_rss_bytes) / (1 << 20),
               static_cast<double>(x.heap_in_use_bytes) / (1 << 20), x.open_fds);
  }
  if (!a.keep && a.work.empty()) fs::remove_all(work);

  const std::vector<std::string> problems = soak_problems(its, limits);
  Json j;
  j["models"] = a.models;
  j["suites"] = a.suites;
  j["limit"] = a.limit;
  j["threads"] = a.threads;
  j["batch"] = a.batch;
  j["allowance"] = {{"rss_fraction", limits.fraction},
                    {"rss_slack_bytes", limits.slack_bytes},
                    {"heap_fraction", limits.heap_fraction},
                    {"heap_slack_bytes", limits.heap_slack_bytes}};
  for (const Iteration& x : its) j["iterations"].push_back(iteration_json(x));
  j["problems"] = problems;
  j["pass"] = problems.empty();
  if (!a.report.empty()) {
    std::ofstream out(a.report);
    out << j.dump(2) << "\n";
    if (!out) throw Error(a.report, "cannot write the JSON report");
  }
  if (a.json) {
    fmt::print("{}\n", j.dump(2));
  } else {
    print_table(its);
    for (const std::string& p : problems) fmt::print("FAIL: {}\n", p);
    fmt::print("{}\n", problems.empty() ? "PASS: same results every iteration; descriptors, RSS and heap flat" : "FAIL");
  }
  return problems.empty() ? 0 : 1;
}

}  // namespace
}  // namespace tenx::soak

int main(int argc, char** argv) {
  using tenx::soak::Args;
  CLI::App app{"tenx_soak: the evaluation repeated in one process; results, RSS and descriptors per iteration"};
  Args a;
  app.add_option("--model", a.models, "NAME=PATH (repeat)");
  app.add_option("--suites", a.suites, "'all' or a comma-separated list")->capture_default_str();
  app.add_option("--suites-dir", a.suites_dir, "Where suite names resolve");
  app.add_option("--split", a.split, "Split")->capture_default_str();
  app.add_option("--limit", a.limit, "Items per suite (0: all)")->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  app.add_option("--seed", a.seed, "Seed of the --limit subset");
  app.add_option("-n,--iterations", a.iterations, "Repetitions")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("-t,--threads", a.threads, "Worker threads")->check(CLI::Range(1, 256))->capture_default_str();
  app.add_option("--batch", a.batch, "Items in flight per model, as tenx run --batch (0: tenx run's default)")
      ->check(CLI::Range(0, 4096))
      ->capture_default_str();
  app.add_option("--work", a.work, "Folder for the iterations' run folders (default: a temporary one, removed)");
  app.add_flag("--keep", a.keep, "Keep each iteration's run folder");
  app.add_option("--rss-fraction", a.rss_fraction, "Allowed RSS growth over iteration 2, fraction")->capture_default_str();
  app.add_option("--rss-slack-mib", a.rss_slack_mib, "Allowed RSS growth over iteration 2, MiB")->capture_default_str();
  app.add_flag("--json", a.json, "Print JSON instead of the table");
  app.add_option("--report", a.report, "Also write the JSON to this file");
  app.add_option("--compare", a.compare, "REFERENCE_DIR OTHER_DIR: compare two finished run folders")->expected(2);
  try {
    app.parse(argc, argv);
    if (!a.compare.empty()) return tenx::soak::compare_runs(a.compare[0], a.compare[1]);
    return tenx::soak::soak(a);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "tenx_soak: error: {}\n", e.what());
    return 2;
  }
}
