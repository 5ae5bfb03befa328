// The benchmarks' measuring code, checked for correctness only (never for speed:
// CI builds the benchmarks but does not run them, and no timing is asserted here):
//   - the FMA chains compute the recurrence a scalar oracle computes, and the FLOP
//     count per iteration matches the chains' shape;
//   - the streaming read sums exactly the buffer it was given, on 1 and 2 threads;
//   - the bench executables start, list their cases, and reject a bad peaks file
//     with an error naming it.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <tuple>

#include <sys/wait.h>

#include "../../benchmarks/machine_limits.hpp"

namespace {

using namespace tenx;
using namespace tenx::bench;

// Every lane of chain c runs acc = acc * a + b from 0.01 (c + 1); in float with a fused
// multiply-add, as the vector code does.
double chain_oracle(int n_chains, int lanes, int64_t n_iter) {
  double total = 0;
  for (int c = 0; c < n_chains; ++c) {
    float acc = 0.01f * static_cast<float>(c + 1);
    for (int64_t i = 0; i < n_iter; ++i) acc = std::fma(acc, 0.9999999f, 1e-7f);
    total += static_cast<double>(acc) * lanes;
  }
  return total;
}

TEST(MachineLimits, FmaChainsMatchTheScalarRecurrence) {
  const int64_t n = 1000;
  struct Case {
    Isa isa;
    int chains, lanes;
  };
  for (const Case& c : {Case{Isa::Avx512, kAvx512Chains, 16}, Case{Isa::Avx2, kAvx2Chains, 8}}) {
    if (!isa_supported(c.isa)) continue;
    SCOPED_TRACE(isa_name(c.isa));
    const double expected = chain_oracle(c.chains, c.lanes, n);
    EXPECT_NEAR(fma_chains(c.isa, n), expected, 1e-5 * expected);
    EXPECT_EQ(fma_flops_per_iter(c.isa), 2.0 * c.chains * c.lanes);
  }
  // The scalar fallback rounds after the multiply (no fma): same value to ~1e-6.
  const double scalar = chain_oracle(kScalarChains, 1, n);
  EXPECT_NEAR(fma_chains(Isa::Scalar, n), scalar, 1e-5 * scalar);
  EXPECT_EQ(fma_flops_per_iter(Isa::Scalar), 2.0 * kScalarChains);
}

TEST(MachineLimits, RunFmaCountsEveryTaskOnThePool) {
  ThreadPool pool(2);
  float sink = 0;
  const Isa isa = best_isa();
  const double flops = run_fma(pool, isa, 6, 100, sink);
  EXPECT_EQ(flops, 6.0 * 100 * fma_flops_per_iter(isa));
  // Six tasks each return the same chain sum, whichever worker ran them.
  const double one = fma_chains(isa, 100);
  EXPECT_NEAR(sink, 6 * one, 1e-5 * 6 * one);
}

TEST(MachineLimits, ReadSumsTheWholeBuffer) {
  const ReadBuffer buf(3 * ReadBuffer::kChunkBytes - 1);  // rounds up to 3 chunks
  ASSERT_EQ(buf.n_chunks(), 3u);
  ASSERT_EQ(buf.bytes(), 3 * ReadBuffer::kChunkBytes);
  // The buffer holds (i mod 1024) * 1e-3 at float index i.
  const size_t n = buf.bytes() / sizeof(float);
  double expected = 0;
  for (size_t i = 0; i < n; ++i) expected += static_cast<double>(static_cast<float>(i & 1023) * 1e-3f);
  for (Isa isa : {Isa::Avx512, Isa::Avx2, Isa::Scalar}) {
    if (!isa_supported(isa)) continue;
    SCOPED_TRACE(isa_name(isa));
    double direct = 0;
    for (size_t c = 0; c < buf.n_chunks(); ++c)
      direct += read_sum(isa, buf.chunk(c), ReadBuffer::kChunkBytes / sizeof(float));
    EXPECT_NEAR(direct, expected, 1e-4 * expected);
    for (int threads : {1, 2}) {
      ThreadPool pool(threads);
      float sink = 0;
      EXPECT_EQ(run_read(pool, isa, buf, sink), static_cast<double>(buf.bytes()));
      EXPECT_NEAR(sink, expected, 1e-4 * expected);
    }
  }
}

// Runs a command; returns its exit status and output (stdout and stderr).
std::pair<int, std::string> run(const std::string& cmd) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return {-1, out};
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::filesystem::path bench_dir() { return std::filesystem::path(TENX_BINARY).parent_path() / "benchmarks"; }

TEST(BenchExecutables, MachineBenchListsItsCases) {
  const auto exe = bench_dir() / "machine_bench";
  if (!std::filesystem::exists(exe)) GTEST_SKIP() << exe << " not built (TENX_BUILD_BENCHMARKS=OFF?)";
  const auto [status, out] = run(exe.string() + " --benchmark_list_tests --threads=1,2");
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("machine/read/threads:1"), std::string::npos) << out;
  EXPECT_NE(out.find("machine/read/threads:2"), std::string::npos) << out;
  EXPECT_NE(out.find(std::string("machine/fma/") + isa_name(best_isa()) + "/threads:2"), std::string::npos) << out;
}

TEST(BenchExecutables, E2eBenchListsItsCasesAndRejectsABadPeaksFile) {
  const auto exe = bench_dir() / "e2e_bench";
  if (!std::filesystem::exists(exe)) GTEST_SKIP() << exe << " not built (TENX_BUILD_BENCHMARKS=OFF?)";
  const auto tmp = std::filesystem::temp_directory_path() / "tenx_bench_smoke";
  std::filesystem::create_directories(tmp);
  // Listing neither writes models nor measures anything.
  auto [status, out] = run(exe.string() + " --benchmark_list_tests --models_dir=" + (tmp / "models").string());
  EXPECT_EQ(status, 0) << out;
  for (const char* name : {"e2e/2m/f32/pp128/threads:1", "e2e/25m/q8_0/pp512/threads:2", "e2e/134m/q4_0/tg128/threads:2"})
    EXPECT_NE(out.find(name), std::string::npos) << name << "\n" << out;
  EXPECT_FALSE(std::filesystem::exists(tmp / "models"));

  const auto bad = tmp / "peaks.json";
  std::ofstream(bad) << "{\"peaks\": [{\"threads\": 1}]}";
  std::tie(status, out) = run(exe.string() + " --benchmark_list_tests --peaks=" + bad.string());
  EXPECT_EQ(status, 2) << out;
  EXPECT_NE(out.find(bad.string()), std::string::npos) << out;
  EXPECT_NE(out.find("not a machine_bench peaks file"), std::string::npos) << out;
  std::filesystem::remove_all(tmp);
}

}  // namespace
