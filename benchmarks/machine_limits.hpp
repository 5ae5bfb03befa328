#pragma once
// The machine's own limits, measured rather than taken from a data sheet, so the
// benchmarks can say how close tenx comes to them on the machine they ran on:
//   - peak FMA throughput: independent fused multiply-add chains, enough of them
//     to cover the FMA latency on every FMA port, in the widest vector ISA the
//     CPU has (chosen at run time with __builtin_cpu_supports);
//   - memory read bandwidth: streaming vector loads over a buffer many times the
//     last-level cache, so every byte comes from DRAM.
// Multi-threaded runs split the work into many tasks on tenx's own ThreadPool (the
// pool the kernels use), so the numbers include its dispatch, as a kernel's do.
// Used by machine_bench.cpp (Google Benchmark cases) and e2e_bench.cpp (start-up
// measurement when no peaks file from machine_bench is given).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <ctime>
#include <string>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TENX_BENCH_X86 1
#endif

#include "tenx/ops/thread_pool.hpp"

namespace tenx::bench {

enum class Isa { Scalar, Avx2, Avx512 };

inline const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return "avx512";
    case Isa::Avx2: return "avx2";
    default: return "scalar";
  }
}

inline bool isa_supported(Isa isa) {
#ifdef TENX_BENCH_X86
  __builtin_cpu_init();
  if (isa == Isa::Avx512) return __builtin_cpu_supports("avx512f");
  if (isa == Isa::Avx2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  return isa == Isa::Scalar;
}

inline Isa best_isa() {
  if (isa_supported(Isa::Avx512)) return Isa::Avx512;
  if (isa_supported(Isa::Avx2)) return Isa::Avx2;
  return Isa::Scalar;
}

// ---------------------------------------------------------------------------
// FMA chains. acc = acc * a + b with a just under 1 converges to b / (1 - a):
// values stay normal (no denormal slow path) and the compiler cannot fold the loop.
// Zen 4 / Ice Lake and later: 2 FMA ports x latency 4 = 8 vector FMAs in flight;
// 16 zmm (of 32 registers) and 12 ymm (of 16) chains leave a margin.

inline constexpr int kAvx512Chains = 16, kAvx2Chains = 12, kScalarChains = 8;

#ifdef TENX_BENCH_X86
#define TENX_FMA_CHAINS_16(OP) OP(0) OP(1) OP(2) OP(3) OP(4) OP(5) OP(6) OP(7) OP(8) OP(9) OP(10) OP(11) OP(12) OP(13) OP(14) OP(15)
#define TENX_FMA_CHAINS_12(OP) OP(0) OP(1) OP(2) OP(3) OP(4) OP(5) OP(6) OP(7) OP(8) OP(9) OP(10) OP(11)

// Horizontal sum through memory (GCC 12's _mm512_reduce_add_ps warns about an
// uninitialised temporary in its own header).
__attribute__((target("avx512f"))) inline float sum_lanes_avx512(__m512 v) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, v);
  float s = 0;
  for (float x : lanes) s += x;
  return s;
}

__attribute__((target("avx512f"))) inline float fma_chains_avx512(int64_t n_iter) {
  const __m512 a = _mm512_set1_ps(0.9999999f), b = _mm512_set1_ps(1e-7f);
#define TENX_DECL(i) __m512 acc##i = _mm512_set1_ps(0.01f * (i + 1));
#define TENX_STEP(i) acc##i = _mm512_fmadd_ps(acc##i, a, b);
#define TENX_SUM(i) sum = _mm512_add_ps(sum, acc##i);
  TENX_FMA_CHAINS_16(TENX_DECL)
  for (int64_t it = 0; it < n_iter; ++it) {
    TENX_FMA_CHAINS_16(TENX_STEP)
  }
  __m512 sum = _mm512_setzero_ps();
  TENX_FMA_CHAINS_16(TENX_SUM)
#undef TENX_DECL
#undef TENX_STEP
#undef TENX_SUM
  return sum_lanes_avx512(sum);
}

__attribute__((target("avx2,fma"))) inline float fma_chains_avx2(int64_t n_iter) {
  const __m256 a = _mm256_set1_ps(0.9999999f), b = _mm256_set1_ps(1e-7f);
#define TENX_DECL(i) __m256 acc##i = _mm256_set1_ps(0.01f * (i + 1));
#define TENX_STEP(i) acc##i = _mm256_fmadd_ps(acc##i, a, b);
#define TENX_SUM(i) sum = _mm256_add_ps(sum, acc##i);
  TENX_FMA_CHAINS_12(TENX_DECL)
  for (int64_t it = 0; it < n_iter; ++it) {
    TENX_FMA_CHAINS_12(TENX_STEP)
  }
  __m256 sum = _mm256_setzero_ps();
  TENX_FMA_CHAINS_12(TENX_SUM)
#undef TENX_DECL
#undef TENX_STEP
#undef TENX_SUM
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  float s = 0;
  for (float v : lanes) s += v;
  return s;
}
#endif

inline float fma_chains_scalar(int64_t n_iter) {
  float acc[kScalarChains];
  for (int i = 0; i < kScalarChains; ++i) acc[i] = 0.01f * static_cast<float>(i + 1);
  for (int64_t it = 0; it < n_iter; ++it)
    for (float& v : acc) v = v * 0.9999999f + 1e-7f;
  float s = 0;
  for (float v : acc) s += v;
  return s;
}

// FLOPs of one loop iteration of the chains of `isa` (one FMA = 2 FLOPs).
inline double fma_flops_per_iter(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return 2.0 * 16 * kAvx512Chains;
    case Isa::Avx2: return 2.0 * 8 * kAvx2Chains;
    default: return 2.0 * kScalarChains;
  }
}

inline float fma_chains(Isa isa, int64_t n_iter) {
#ifdef TENX_BENCH_X86
  if (isa == Isa::Avx512) return fma_chains_avx512(n_iter);
  if (isa == Isa::Avx2) return fma_chains_avx2(n_iter);
#endif
  return fma_chains_scalar(n_iter);
}

// Runs n_tasks tasks of n_iter chain iterations on the pool; returns the FLOPs done.
// Many more tasks than threads: tasks are handed out dynamically, so a worker that
// starts late (the machine is shared) does not leave the others idle at the end.
inline double run_fma(ThreadPool& pool, Isa isa, int64_t n_tasks, int64_t n_iter, float& sink) {
  std::vector<float> partial(static_cast<size_t>(pool.size()) * 16, 0.0f);  // one cache line per worker
  pool.parallel_for(n_tasks, [&](int64_t, int worker) { partial[static_cast<size_t>(worker) * 16] += fma_chains(isa, n_iter); });
  for (size_t w = 0; w < partial.size(); w += 16) sink += partial[w];
  return static_cast<double>(n_tasks) * static_cast<double>(n_iter) * fma_flops_per_iter(isa);
}

// ---------------------------------------------------------------------------
// Streaming reads: vector loads summed into independent accumulators (the adds
// are far below the FMA ports' capacity, so the loads are the bottleneck).

struct AlignedFree {
  void operator()(float* p) const { std::free(p); }
};

class ReadBuffer {
 public:
  // bytes is rounded up to whole 2 MiB chunks; every page is written once here
  // so the timed reads never fault pages in.
  explicit ReadBuffer(size_t bytes) {
    n_chunks_ = std::max<size_t>(1, (bytes + kChunkBytes - 1) / kChunkBytes);
    data_.reset(static_cast<float*>(std::aligned_alloc(64, n_chunks_ * kChunkBytes)));
    const size_t n = n_chunks_ * kChunkBytes / sizeof(float);
    for (size_t i = 0; i < n; ++i) data_.get()[i] = static_cast<float>(i & 1023) * 1e-3f;
  }
  static constexpr size_t kChunkBytes = size_t{2} << 20;
  size_t bytes() const { return n_chunks_ * kChunkBytes; }
  size_t n_chunks() const { return n_chunks_; }
  const float* chunk(size_t i) const { return data_.get() + i * (kChunkBytes / sizeof(float)); }

 private:
  size_t n_chunks_ = 0;
  std::unique_ptr<float, AlignedFree> data_;
};

// Four interleaved streams per thread (the quarters of the chunk), as a matrix-vector
// product reads several weight rows at once: one sequential stream per core leaves
// memory-level parallelism unused and measures less than a decode kernel can reach.
#ifdef TENX_BENCH_X86
__attribute__((target("avx512f"))) inline float read_sum_avx512(const float* p, size_t n) {
  const size_t q = n / 4 / 32 * 32;  // floats per stream, whole 128-byte steps
  const float *s0 = p, *s1 = p + q, *s2 = p + 2 * q, *s3 = p + 3 * q;
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  for (size_t i = 0; i < q; i += 32) {
    a0 = _mm512_add_ps(a0, _mm512_load_ps(s0 + i));
    a1 = _mm512_add_ps(a1, _mm512_load_ps(s0 + i + 16));
    a2 = _mm512_add_ps(a2, _mm512_load_ps(s1 + i));
    a3 = _mm512_add_ps(a3, _mm512_load_ps(s1 + i + 16));
    a4 = _mm512_add_ps(a4, _mm512_load_ps(s2 + i));
    a5 = _mm512_add_ps(a5, _mm512_load_ps(s2 + i + 16));
    a6 = _mm512_add_ps(a6, _mm512_load_ps(s3 + i));
    a7 = _mm512_add_ps(a7, _mm512_load_ps(s3 + i + 16));
  }
  float tail = 0;
  for (size_t i = 4 * q; i < n; ++i) tail += p[i];
  a0 = _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3));
  a4 = _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7));
  return sum_lanes_avx512(_mm512_add_ps(a0, a4)) + tail;
}

__attribute__((target("avx2"))) inline float read_sum_avx2(const float* p, size_t n) {
  const size_t q = n / 4 / 16 * 16;  // floats per stream, whole 64-byte steps
  const float *s0 = p, *s1 = p + q, *s2 = p + 2 * q, *s3 = p + 3 * q;
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  for (size_t i = 0; i < q; i += 16) {
    a0 = _mm256_add_ps(a0, _mm256_load_ps(s0 + i));
    a1 = _mm256_add_ps(a1, _mm256_load_ps(s0 + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_load_ps(s1 + i));
    a3 = _mm256_add_ps(a3, _mm256_load_ps(s1 + i + 8));
    a4 = _mm256_add_ps(a4, _mm256_load_ps(s2 + i));
    a5 = _mm256_add_ps(a5, _mm256_load_ps(s2 + i + 8));
    a6 = _mm256_add_ps(a6, _mm256_load_ps(s3 + i));
    a7 = _mm256_add_ps(a7, _mm256_load_ps(s3 + i + 8));
  }
  float tail = 0;
  for (size_t i = 4 * q; i < n; ++i) tail += p[i];
  a0 = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
  a4 = _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7));
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, _mm256_add_ps(a0, a4));
  float s = tail;
  for (float v : lanes) s += v;
  return s;
}
#endif

inline float read_sum(Isa isa, const float* p, size_t n) {
#ifdef TENX_BENCH_X86
  if (isa == Isa::Avx512) return read_sum_avx512(p, n);
  if (isa == Isa::Avx2) return read_sum_avx2(p, n);
#endif
  float s[8] = {};
  for (size_t i = 0; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) s[j] += p[i + static_cast<size_t>(j)];
  float t = 0;
  for (float v : s) t += v;
  return t;
}

// Reads the whole buffer once, in 2 MiB chunks handed out across the pool; returns the bytes read.
inline double run_read(ThreadPool& pool, Isa isa, const ReadBuffer& buf, float& sink) {
  std::vector<float> partial(static_cast<size_t>(pool.size()) * 16, 0.0f);
  const size_t n = ReadBuffer::kChunkBytes / sizeof(float);
  pool.parallel_for(static_cast<int64_t>(buf.n_chunks()), [&](int64_t c, int worker) {
    partial[static_cast<size_t>(worker) * 16] += read_sum(isa, buf.chunk(static_cast<size_t>(c)), n);
  });
  for (size_t w = 0; w < partial.size(); w += 16) sink += partial[w];
  return static_cast<double>(buf.bytes());
}

// Default buffer: 1 GiB, 32x the 32 MiB L3 of the reference machine and far above
// any current desktop/server per-socket LLC share.
inline constexpr size_t kDefaultReadBytes = size_t{1} << 30;

// ---------------------------------------------------------------------------
// Quick stand-alone measurement (e2e_bench start-up): best of `trials` timed runs.

struct MachinePeaks {
  int threads = 1;
  std::string isa;
  double fma_gflops = 0;  // peak FMA throughput, GFLOP/s
  double read_gbs = 0;    // memory read bandwidth, GB/s (1e9 bytes)
};

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// CPU seconds of the whole process (all threads). Over a timed region,
// cpu / (wall x threads) is the share of its cores the benchmark actually got: well
// under 1 means other processes took the CPU (the machine is shared) and the rates
// are low for that reason, not the code's. Spinning pool workers count as busy.
inline double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

inline MachinePeaks measure_peaks(ThreadPool& pool, const ReadBuffer& buf, int trials = 5) {
  MachinePeaks p;
  p.threads = pool.size();
  const Isa isa = best_isa();
  p.isa = isa_name(isa);
  float sink = 0;
  for (int t = 0; t < trials; ++t) {
    auto t0 = std::chrono::steady_clock::now();
    const double flops = run_fma(pool, isa, 8 * pool.size(), 1 << 16, sink);
    p.fma_gflops = std::max(p.fma_gflops, flops / seconds_since(t0) * 1e-9);
    t0 = std::chrono::steady_clock::now();
    const double bytes = run_read(pool, isa, buf, sink);
    p.read_gbs = std::max(p.read_gbs, bytes / seconds_since(t0) * 1e-9);
  }
  if (sink == 12345.0f) p.isa += " ";  // keeps the sums observable
  return p;
}

}  // namespace tenx::bench
