// Micro-benchmarks of the kernels with GFLOP/s and GB/s counters, at the
// shapes of a dim-768 / ffn-2048 / vocab-32000 model: decode (T = 1) and
// prefill (T = 128) matrix products per storage type, attention, rmsnorm.
//   ops_bench [--threads=N] [google benchmark flags, e.g. --benchmark_filter=q8_0]
// FLOPs are those the kernels count (2 per multiply-add, docs/flops.md).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "machine_limits.hpp"
#include "tenx/ops/kernels.hpp"
#include "tenx/ops/quant.hpp"

namespace {

using namespace tenx;

struct Weight {
  DType type;
  int64_t in, out;
  std::vector<uint8_t> bytes;
  TensorView view;
};

// One weight alive at a time (the vocab matrix in F32 is ~100 MB).
std::unique_ptr<Weight> g_weight;  // benchmark fixture cache, not library state
int g_threads = 2;

const TensorView& weight(DType type, int64_t in, int64_t out) {
  if (g_weight && g_weight->type == type && g_weight->in == in && g_weight->out == out)
    return g_weight->view;
  g_weight.reset();
  auto w = std::make_unique<Weight>();
  w->type = type;
  w->in = in;
  w->out = out;
  const int64_t row_bytes = dtype_row_bytes(type, in);
  w->bytes.resize(static_cast<size_t>(row_bytes * out));
  std::mt19937 rng(1);
  if (can_quantize_to(type)) {
    std::normal_distribution<float> dist(0.0f, 0.05f);
    std::vector<float> row(static_cast<size_t>(in));
    for (int64_t r = 0; r < out; ++r) {
      for (auto& v : row) v = dist(rng);
      quantize_row(type, row.data(), w->bytes.data() + r * row_bytes, in);
    }
  } else {  // K-quants: random blocks with a small fp16 scale (bytes 0x1c00 ~ 0.004)
    for (auto& b : w->bytes) b = static_cast<uint8_t>(rng());
    const int64_t bb = dtype_info(type).block_bytes;
    for (int64_t b = 0; b < row_bytes * out; b += bb) {
      const size_t d_at = static_cast<size_t>(type == DType::Q6_K ? b + 208 : b);
      w->bytes[d_at] = 0x00;
      w->bytes[d_at + 1] = 0x1c;
    }
  }
  w->view.type = type;
  w->view.n_dims = 2;
  w->view.ne = {in, out, 1, 1};
  w->view.data = w->bytes.data();
  w->view.nbytes = w->bytes.size();
  g_weight = std::move(w);
  return g_weight->view;
}

void set_rates(benchmark::State& state, const Counters& c, int64_t iterations) {
  const double flops = static_cast<double>(c.total_flops()) / static_cast<double>(iterations);
  const double bytes = static_cast<double>(c.total_bytes_read()) / static_cast<double>(iterations);
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GB/s"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void bm_matmul(benchmark::State& state, DType type, int64_t in, int64_t out, int64_t T) {
  const TensorView& w = weight(type, in, out);
  std::vector<float> x(static_cast<size_t>(T * in), 0.5f), y(static_cast<size_t>(T * out));
  ExecContext ctx(g_threads);
  for (auto _ : state) {
    matmul(ctx, y.data(), x.data(), w, T);
    benchmark::DoNotOptimize(y.data());
  }
  set_rates(state, ctx.counters, state.iterations());
}

// A GEMM against the FMA peak, side by side: each iteration runs machine_bench's FMA
// chains on the same pool, then the matmul. The host lends its cores unevenly over
// minutes; the peak measured in this loop is the one the matmul had.
void bm_matmul_vs_fma(benchmark::State& state, DType type, int64_t in, int64_t out, int64_t T) {
  const TensorView& w = weight(type, in, out);
  std::vector<float> x(static_cast<size_t>(T * in), 0.5f), y(static_cast<size_t>(T * out));
  ExecContext ctx(g_threads);
  const bench::Isa isa = bench::best_isa();
  float sink = 0;
  matmul(ctx, y.data(), x.data(), w, T);  // warm-up
  ctx.counters = {};
  double fma_flops = 0, fma_s = 0, matmul_s = 0;
  for (auto _ : state) {
    auto t0 = std::chrono::steady_clock::now();
    fma_flops += bench::run_fma(ctx.pool, isa, 8 * ctx.pool.size(), 1 << 14, sink);
    fma_s += bench::seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    matmul(ctx, y.data(), x.data(), w, T);
    benchmark::DoNotOptimize(y.data());
    matmul_s += bench::seconds_since(t0);
  }
  benchmark::DoNotOptimize(sink);
  const double gflops = static_cast<double>(ctx.counters.total_flops()) / matmul_s * 1e-9;
  const double peak = fma_flops / fma_s * 1e-9;
  state.counters["GFLOP/s"] = gflops;
  state.counters["fma_GFLOP/s"] = peak;
  state.counters["pct_fma_side_by_side"] = 100.0 * gflops / peak;
}

void bm_attention(benchmark::State& state, int64_t T, int64_t past) {
  const AttentionShape s{12, 4, 64};
  const int64_t n = past + T, qd = 12 * 64, kvd = 4 * 64;
  std::vector<float> k(static_cast<size_t>(n * kvd), 0.1f), v(k.size(), 0.2f);
  std::vector<float> q(static_cast<size_t>(T * qd), 0.3f), out(q.size());
  std::vector<AttentionKeys> keys;
  for (int64_t t = 0; t < T; ++t) keys.push_back({k.data(), v.data(), past + t + 1});
  ExecContext ctx(g_threads);
  for (auto _ : state) {
    attention(ctx, out.data(), q.data(), keys.data(), T, s);
    benchmark::DoNotOptimize(out.data());
  }
  set_rates(state, ctx.counters, state.iterations());
}

void bm_rmsnorm(benchmark::State& state, int64_t T) {
  const int64_t C = 768;
  std::vector<float> x(static_cast<size_t>(T * C), 0.7f), w(static_cast<size_t>(C), 1.1f), y(x.size());
  ExecContext ctx(g_threads);
  for (auto _ : state) {
    rmsnorm(ctx, y.data(), x.data(), w.data(), T, C, 1e-5f);
    benchmark::DoNotOptimize(y.data());
  }
  set_rates(state, ctx.counters, state.iterations());
}

// Per-dispatch cost of the pool (decode issues a few hundred per token).
void bm_parallel_for(benchmark::State& state) {
  ExecContext ctx(g_threads);
  std::atomic<int64_t> sink{0};
  for (auto _ : state)
    ctx.pool.parallel_for(g_threads, [&](int64_t task, int) { sink.fetch_add(task, std::memory_order_relaxed); });
  benchmark::DoNotOptimize(sink.load());
}

void register_all() {
  benchmark::RegisterBenchmark("thread_pool/parallel_for", bm_parallel_for)->UseRealTime();
  struct Shape {
    const char* name;
    int64_t in, out;
  };
  const Shape shapes[] = {{"qkvo_768x768", 768, 768},
                          {"gate_768x2048", 768, 2048},
                          {"down_2048x768", 2048, 768},
                          {"vocab_768x32000", 768, 32000}};
  const DType types[] = {DType::F32, DType::F16, DType::BF16, DType::Q8_0,
                         DType::Q4_0, DType::Q4_K, DType::Q6_K};
  for (DType type : types)
    for (const auto& s : shapes)
      for (int64_t T : {1, 128}) {
        const std::string name = "matmul/" + std::string(dtype_name(type)) + "/" + s.name +
                                 "/T=" + std::to_string(T);
        benchmark::RegisterBenchmark(name.c_str(), bm_matmul, type, s.in, s.out, T)
            ->Unit(benchmark::kMicrosecond)
            ->UseRealTime();
      }
  // Decode with the weights coming from DRAM, as in a whole model (bigger than the L3 cache,
  // where the shapes above fit): the quantized types only (F32 would need 0.5 GB).
  for (DType type : {DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q6_K}) {
    const std::string name = "matmul/" + std::string(dtype_name(type)) + "/dram_4096x32000/T=1";
    benchmark::RegisterBenchmark(name.c_str(), bm_matmul, type, int64_t{4096}, int64_t{32000}, int64_t{1})
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
  }
  for (const auto& s : shapes) {
    const std::string name = std::string("matmul_vs_fma/f32/") + s.name + "/T=128";
    benchmark::RegisterBenchmark(name.c_str(), bm_matmul_vs_fma, DType::F32, s.in, s.out, int64_t{128})
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
  }
  for (int64_t past : {0, 511, 2047})
    benchmark::RegisterBenchmark(("attention/decode/keys=" + std::to_string(past + 1)).c_str(), bm_attention,
                                 1, past)
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
  benchmark::RegisterBenchmark("attention/prefill/T=128", bm_attention, 128, 0)
      ->Unit(benchmark::kMicrosecond)
      ->UseRealTime();
  for (int64_t T : {1, 128})
    benchmark::RegisterBenchmark(("rmsnorm/768/T=" + std::to_string(T)).c_str(), bm_rmsnorm, T)
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
}

}  // namespace

int main(int argc, char** argv) {
  g_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--threads=", 10) == 0)
      g_threads = std::max(1, std::atoi(argv[i] + 10));
    else
      args.push_back(argv[i]);
  }
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  benchmark::AddCustomContext("threads", std::to_string(g_threads));
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  g_weight.reset();
  return 0;
}
