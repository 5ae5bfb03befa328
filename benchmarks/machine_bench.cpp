// The machine's limits, per thread count: peak FMA throughput (GFLOP/s) for each
// vector ISA the CPU supports, and memory read bandwidth (GB/s) over a buffer far
// larger than the last-level cache. The other benchmarks quote their rates as a
// percentage of these, measured in the same run (benchmarks/run.sh).
//   machine_bench [--threads=1,2] [--read_mib=1024] [--peaks_out=FILE.json]
//                 [google benchmark flags]
// --peaks_out writes, per thread count, the best FMA rate over ISAs and
// repetitions and the best read rate: {"cpu", "isa", "peaks": [{"threads",
// "fma_gflops", "read_gbs"}]}; e2e_bench --peaks=FILE reads it.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "machine_limits.hpp"
#include "tenx/util/cpuinfo.hpp"

namespace {

using namespace tenx;
using namespace tenx::bench;

struct Options {
  std::vector<int> threads = {1, 2};
  size_t read_bytes = kDefaultReadBytes;
  std::string peaks_out;
};

// Best rates seen, by thread count; filled by the benchmark cases, read by main.
struct Peaks {
  std::map<int, double> fma_gflops, read_gbs;
  std::map<int, std::string> fma_isa;
};

std::string cpu_model() {
  const std::string model = tenx::read_cpuinfo().model;
  return model.empty() ? "unknown" : model;
}

void bm_fma(benchmark::State& state, Isa isa, int threads, Peaks& peaks) {
  ThreadPool pool(threads);
  float sink = 0;
  run_fma(pool, isa, threads, 1 << 12, sink);  // wakes the workers, settles the clock
  double flops = 0;
  const double cpu0 = process_cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) flops += run_fma(pool, isa, 8 * threads, 1 << 16, sink);
  const double seconds = seconds_since(t0);
  state.counters["cpu_share"] = (process_cpu_seconds() - cpu0) / (seconds * threads);
  benchmark::DoNotOptimize(sink);
  const double gflops = flops / seconds * 1e-9;
  state.counters["GFLOP/s"] = gflops;
  state.counters["threads"] = threads;
  if (gflops > peaks.fma_gflops[threads]) {
    peaks.fma_gflops[threads] = gflops;
    peaks.fma_isa[threads] = isa_name(isa);
  }
}

void bm_read(benchmark::State& state, const ReadBuffer& buf, int threads, Peaks& peaks) {
  ThreadPool pool(threads);
  const Isa isa = best_isa();
  float sink = 0;
  double bytes = 0;
  const double cpu0 = process_cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) bytes += run_read(pool, isa, buf, sink);
  const double seconds = seconds_since(t0);
  state.counters["cpu_share"] = (process_cpu_seconds() - cpu0) / (seconds * threads);
  benchmark::DoNotOptimize(sink);
  const double gbs = bytes / seconds * 1e-9;
  state.counters["GB/s"] = gbs;
  state.counters["threads"] = threads;
  state.counters["buffer_MiB"] = static_cast<double>(buf.bytes() >> 20);
  peaks.read_gbs[threads] = std::max(peaks.read_gbs[threads], gbs);
}

std::vector<int> parse_list(const char* s) {
  std::vector<int> v;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) v.push_back(std::max(1, std::atoi(item.c_str())));
  return v;
}

void write_peaks(const std::string& path, const Peaks& peaks) {
  nlohmann::ordered_json j;
  j["cpu"] = cpu_model();
  j["isa"] = isa_name(best_isa());
  j["peaks"] = nlohmann::ordered_json::array();
  for (const auto& [threads, gflops] : peaks.fma_gflops) {
    nlohmann::ordered_json p;
    p["threads"] = threads;
    p["fma_gflops"] = gflops;
    p["fma_isa"] = peaks.fma_isa.at(threads);
    auto it = peaks.read_gbs.find(threads);
    p["read_gbs"] = it == peaks.read_gbs.end() ? 0.0 : it->second;
    j["peaks"].push_back(p);
  }
  std::ofstream out(path);
  out << j.dump(2) << "\n";
  if (!out) std::fprintf(stderr, "machine_bench: cannot write %s\n", path.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--threads=", 10) == 0)
      opt.threads = parse_list(argv[i] + 10);
    else if (std::strncmp(argv[i], "--read_mib=", 11) == 0)
      opt.read_bytes = static_cast<size_t>(std::max(2, std::atoi(argv[i] + 11))) << 20;
    else if (std::strncmp(argv[i], "--peaks_out=", 12) == 0)
      opt.peaks_out = argv[i] + 12;
    else
      args.push_back(argv[i]);
  }
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;
  benchmark::AddCustomContext("cpu_model", cpu_model());
  benchmark::AddCustomContext("best_isa", isa_name(best_isa()));

  Peaks peaks;
  // Allocated (and paged in) only when a read case is selected to run.
  std::optional<ReadBuffer> buffer;
  const ReadBuffer* buf_ptr = nullptr;
  for (int threads : opt.threads) {
    for (Isa isa : {Isa::Avx512, Isa::Avx2, Isa::Scalar}) {
      if (!isa_supported(isa)) continue;
      const std::string name = std::string("machine/fma/") + isa_name(isa) + "/threads:" + std::to_string(threads);
      benchmark::RegisterBenchmark(name.c_str(), [isa, threads, &peaks](benchmark::State& s) {
        bm_fma(s, isa, threads, peaks);
      })->Unit(benchmark::kMillisecond)->UseRealTime();
    }
    const std::string name = "machine/read/threads:" + std::to_string(threads);
    benchmark::RegisterBenchmark(name.c_str(), [threads, &peaks, &buffer, &buf_ptr, &opt](benchmark::State& s) {
      if (!buf_ptr) {
        buffer.emplace(opt.read_bytes);
        buf_ptr = &*buffer;
      }
      bm_read(s, *buf_ptr, threads, peaks);
    })->Unit(benchmark::kMillisecond)->UseRealTime();
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (!opt.peaks_out.empty()) write_peaks(opt.peaks_out, peaks);
  return 0;
}
