// End-to-end speed of the inference core, the way llama-bench measures it:
// prompt processing (pp128, pp512: one prompt of N tokens through the decoder,
// logits for the last) and generation (tg128: 128 single-token steps from an empty
// context, each fed the previous argmax), with 1 and 2 threads, on deterministic
// random models of ~2M, ~25M and 134M parameters stored as F32, Q8_0 and Q4_0.
//   e2e_bench [--models_dir=DIR] [--threads=1,2] [--peaks=PEAKS.json] [--make_models]
//             [google benchmark flags, e.g. --benchmark_filter=e2e/134m/f32]
// Models are written once by make_random_model into --models_dir (default:
// bench-models/ beside the executable's directory) and reused by later runs and by
// benchmarks/peer/compare.mjs (--make_models writes them all and prints their paths
// as JSON). Counters per case: tokens/s; GFLOP/s (all counted FLOPs) and
// matmul GFLOP/s; GB/s of weights read (the kernels' byte counters); and those as
// % of the machine's peaks: read from --peaks (machine_bench --peaks_out, same
// run.sh run) or, without it, measured here when a thread count is first used.
#include <benchmark/benchmark.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "machine_limits.hpp"
#include "tenx/model/decoder.hpp"
#include "tenx/model/generation.hpp"
#include "tenx/model/model.hpp"
#include "tenx/model/model_init.hpp"
#include "tenx/util/error.hpp"

namespace {

using namespace tenx;
using namespace tenx::bench;
namespace fs = std::filesystem;

struct BenchModel {
  std::string size;  // "2m", "25m", "134m"
  ModelInitSpec spec;
};

ModelInitSpec llama_spec(int64_t dim, int64_t layers, int64_t heads, int64_t ffn, int64_t vocab) {
  ModelInitSpec s;
  s.arch = "llama";
  s.n_embd = dim;
  s.n_layer = layers;
  s.n_head = heads;
  s.n_head_kv = heads;
  s.n_ff = ffn;
  s.n_vocab = vocab;
  s.seed = 1;
  return s;
}

// Every row length is a multiple of 32, so Q8_0 and Q4_0 apply to every matrix; Q4_K
// (256-element super-blocks) only where every row length is a multiple of 256 (not 2m,
// whose dim 128 would leave its matrices in the Q8_0 fallback).
std::vector<BenchModel> bench_models() {
  std::vector<BenchModel> out;
  const std::pair<const char*, ModelInitSpec> sizes[] = {
      {"2m", llama_spec(128, 6, 4, 352, 4096)},       // 2.25 M parameters
      {"25m", llama_spec(512, 6, 8, 1280, 8192)},     // 26.5 M
      {"134m", llama_spec(768, 12, 12, 2048, 32000)}, // 134.1 M (untied output)
  };
  for (const auto& [size, spec] : sizes)
    for (DType type : {DType::F32, DType::Q8_0, DType::Q4_0, DType::Q4_K}) {
      if (type == DType::Q4_K && (spec.n_embd % 256 != 0 || spec.n_ff % 256 != 0)) continue;
      BenchModel m{size, spec};
      m.spec.type = type;
      m.spec.name = std::string("tenx-bench-") + size;
      out.push_back(m);
    }
  return out;
}

std::string type_tag(DType t) {
  std::string s(dtype_name(t));
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The file name says everything that determines the weights, so a cached file
// can only be reused for the same model.
fs::path model_path(const fs::path& dir, const BenchModel& m) {
  const auto& s = m.spec;
  return dir / ("tenx-bench-" + m.size + "-d" + std::to_string(s.n_embd) + "-l" + std::to_string(s.n_layer) + "-h" +
                std::to_string(s.n_head) + "-f" + std::to_string(s.n_ff) + "-v" + std::to_string(s.n_vocab) + "-s" +
                std::to_string(s.seed) + "-" + type_tag(s.type) + ".gguf");
}

fs::path ensure_model(const fs::path& dir, const BenchModel& m) {
  const fs::path path = model_path(dir, m);
  if (fs::exists(path)) return path;
  fs::create_directories(dir);
  // Written under a temporary name and renamed: an interrupted run leaves no truncated model.
  const fs::path tmp = path.string() + ".tmp";
  write_random_model(tmp.string(), m.spec);
  fs::rename(tmp, path);
  return path;
}

// One model in memory at a time (134M F32 maps 536 MB); cases are registered
// grouped by model so each is loaded once.
struct ModelHolder {
  fs::path dir;
  fs::path loaded_path;
  std::unique_ptr<Model> model;
  const Model& get(const BenchModel& m) {
    const fs::path path = ensure_model(dir, m);
    if (!model || loaded_path != path) {
      model.reset();
      model = std::make_unique<Model>(Model::load(path.string()));
      loaded_path = path;
    }
    return *model;
  }
};

struct Test {
  std::string name;
  int n_prompt = 0, n_gen = 0;
};


void run_test(ExecContext& ctx, Decoder& dec, const std::vector<int32_t>& ids, int n_prompt, int n_gen) {
  run_bench_workload(ctx, dec, ids, n_prompt, n_gen);  // the same workload as `tenx bench`
}

using PeaksTable = std::map<int, MachinePeaks>;

// The peaks the percentages are of: from machine_bench's file, or measured here the
// first time a thread count needs them (so listing the cases costs nothing).
struct PeakSource {
  PeaksTable table;
  bool from_file = false;
  std::optional<ReadBuffer> buffer;
  const MachinePeaks* get(int threads) {
    if (auto it = table.find(threads); it != table.end()) return &it->second;
    if (from_file) return nullptr;
    if (!buffer) buffer.emplace(kDefaultReadBytes);
    ThreadPool pool(threads);
    return &(table[threads] = measure_peaks(pool, *buffer));
  }
};

void bm_e2e(benchmark::State& state, ModelHolder& holder, const BenchModel& bm, const Test& test, int threads,
            PeakSource& peaks) {
  const MachinePeaks* peak = peaks.get(threads);
  const Model& m = holder.get(bm);
  ExecContext ctx(threads);
  Decoder dec(m, std::max(test.n_prompt, test.n_gen) + 1, 1, std::max(test.n_prompt, 1));
  const auto ids = bench_token_ids(std::max(test.n_prompt, 1), m.config.n_vocab);
  // Warm-up on a short run: pages every weight in and wakes the pool's workers.
  run_test(ctx, dec, ids, std::min(test.n_prompt, 16), std::min(test.n_gen, 4));
  ctx.counters = {};
  int64_t runs = 0;
  const double cpu0 = process_cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) {
    run_test(ctx, dec, ids, test.n_prompt, test.n_gen);
    ++runs;
  }
  const double s = seconds_since(t0);
  state.counters["cpu_share"] = (process_cpu_seconds() - cpu0) / (s * threads);
  const Counters& c = ctx.counters;
  const double tokens = static_cast<double>(runs) * (test.n_prompt + test.n_gen);
  const double gflops = static_cast<double>(c.total_flops()) / s * 1e-9;
  const double weight_gbs = static_cast<double>(c.total_weight_bytes()) / s * 1e-9;
  state.counters["tokens/s"] = tokens / s;
  state.counters["GFLOP/s"] = gflops;
  state.counters["matmul_GFLOP/s"] = static_cast<double>(c.class_flops(OpClass::Matmul)) / s * 1e-9;
  state.counters["weight_GB/s"] = weight_gbs;
  state.counters["weight_bytes/token"] = static_cast<double>(c.total_weight_bytes()) / tokens;
  state.counters["threads"] = threads;
  state.counters["params_M"] = static_cast<double>(m.n_params()) * 1e-6;
  if (peak) {
    state.counters["peak_fma_GFLOP/s"] = peak->fma_gflops;
    state.counters["peak_read_GB/s"] = peak->read_gbs;
  }
  if (peak && peak->fma_gflops > 0) state.counters["pct_peak_fma"] = 100.0 * gflops / peak->fma_gflops;
  if (peak && peak->read_gbs > 0) state.counters["pct_peak_read"] = 100.0 * weight_gbs / peak->read_gbs;
}

// F32 decode against the read bandwidth, side by side: every iteration reads the
// 1 GiB buffer of machine_bench once through the same pool, then decodes 32 tokens.
// The machine is shared, and its bandwidth drifts by tens of percent over minutes
// (other tenants of the host), so a peak measured minutes earlier is not the
// denominator the decode actually had; alternating the two in one loop is.
void bm_decode_vs_read(benchmark::State& state, ModelHolder& holder, const BenchModel& bm, int threads,
                       ReadBuffer& buffer) {
  constexpr int kTokens = 32;
  const Model& m = holder.get(bm);
  ExecContext ctx(threads);
  Decoder dec(m, kTokens + 1, 1, 1);
  const auto ids = bench_token_ids(1, m.config.n_vocab);
  const Isa isa = best_isa();
  float sink = 0;
  run_test(ctx, dec, ids, 0, 4);  // warm-up: pages the weights in, wakes the workers
  run_read(ctx.pool, isa, buffer, sink);
  ctx.counters = {};
  double read_s = 0, read_bytes = 0, decode_s = 0;
  for (auto _ : state) {
    auto t0 = std::chrono::steady_clock::now();
    read_bytes += run_read(ctx.pool, isa, buffer, sink);
    read_s += seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    run_test(ctx, dec, ids, 0, kTokens);
    decode_s += seconds_since(t0);
  }
  benchmark::DoNotOptimize(sink);
  const double read_gbs = read_bytes / read_s * 1e-9;
  const double weight_gbs = static_cast<double>(ctx.counters.total_weight_bytes()) / decode_s * 1e-9;
  state.counters["threads"] = threads;
  state.counters["tokens/s"] = static_cast<double>(state.iterations()) * kTokens / decode_s;
  state.counters["weight_GB/s"] = weight_gbs;
  state.counters["read_GB/s"] = read_gbs;
  state.counters["pct_read_side_by_side"] = 100.0 * weight_gbs / read_gbs;
}

std::vector<int> parse_list(const char* s) {
  std::vector<int> v;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) v.push_back(std::max(1, std::atoi(item.c_str())));
  return v;
}

// machine_bench --peaks_out format.
PeaksTable read_peaks(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(path, "cannot open the peaks file (write it with machine_bench --peaks_out)");
  PeaksTable t;
  try {
    const auto j = nlohmann::json::parse(in);
    for (const auto& p : j.at("peaks")) {
      MachinePeaks mp;
      mp.threads = p.at("threads").get<int>();
      mp.isa = p.value("fma_isa", j.value("isa", ""));
      mp.fma_gflops = p.at("fma_gflops").get<double>();
      mp.read_gbs = p.at("read_gbs").get<double>();
      t[mp.threads] = mp;
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(path, std::string("not a machine_bench peaks file: ") + e.what());
  }
  return t;
}

fs::path default_models_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path("bench-models") : exe.parent_path().parent_path() / "bench-models";
}

int run_main(int argc, char** argv) {
  std::vector<int> threads = {1, 2};
  fs::path models_dir = default_models_dir();
  std::string peaks_path;
  bool make_models = false;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--threads=", 10) == 0)
      threads = parse_list(argv[i] + 10);
    else if (std::strncmp(argv[i], "--models_dir=", 13) == 0)
      models_dir = argv[i] + 13;
    else if (std::strncmp(argv[i], "--peaks=", 8) == 0)
      peaks_path = argv[i] + 8;
    else if (std::strcmp(argv[i], "--make_models") == 0)
      make_models = true;
    else
      args.push_back(argv[i]);
  }
  const auto models = bench_models();
  if (make_models) {
    auto out = nlohmann::ordered_json::array();
    for (const auto& m : models) {
      nlohmann::ordered_json j;
      j["size"] = m.size;
      j["type"] = type_tag(m.spec.type);
      j["path"] = fs::absolute(ensure_model(models_dir, m)).string();
      out.push_back(j);
    }
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }

  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;

  PeakSource peaks;
  if (!peaks_path.empty()) {
    peaks.table = read_peaks(peaks_path);
    peaks.from_file = true;
    benchmark::AddCustomContext("peaks", "from " + peaks_path);
    for (const auto& [t, p] : peaks.table) {
      benchmark::AddCustomContext("peak_fma_gflops_threads:" + std::to_string(t), std::to_string(p.fma_gflops));
      benchmark::AddCustomContext("peak_read_gbs_threads:" + std::to_string(t), std::to_string(p.read_gbs));
    }
  } else {
    benchmark::AddCustomContext("peaks", "measured in this run (best of 5, first use of each thread count)");
  }
  benchmark::AddCustomContext("models_dir", models_dir.string());

  ModelHolder holder{models_dir, {}, nullptr};
  const std::vector<Test> tests = {{"pp128", 128, 0}, {"pp512", 512, 0}, {"tg128", 0, 128}};
  for (const auto& m : models)
    for (const auto& test : tests)
      for (int t : threads) {
        const std::string name =
            "e2e/" + m.size + "/" + type_tag(m.spec.type) + "/" + test.name + "/threads:" + std::to_string(t);
        benchmark::RegisterBenchmark(name.c_str(), [&holder, &m, test, t, &peaks](benchmark::State& s) {
          bm_e2e(s, holder, m, test, t, peaks);
        })->Unit(benchmark::kMillisecond)->UseRealTime();
      }
  // F32 decode vs the read loop, alternating (the bandwidth target's measurement).
  std::optional<ReadBuffer> read_buffer;
  for (const auto& m : models) {
    if (m.spec.type != DType::F32) continue;
    for (int t : threads) {
      const std::string name = "e2e/" + m.size + "/f32/tg32_vs_read/threads:" + std::to_string(t);
      benchmark::RegisterBenchmark(name.c_str(), [&holder, &m, t, &read_buffer](benchmark::State& s) {
        if (!read_buffer) read_buffer.emplace(kDefaultReadBytes);
        bm_decode_vs_read(s, holder, m, t, *read_buffer);
      })->Unit(benchmark::kMillisecond)->UseRealTime();
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run_main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "e2e_bench: error: %s\n", e.what());
    return 2;
  }
}
