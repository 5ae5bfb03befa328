// matmul: every instruction-set build and the public kernel against the scalar
// reference, over all storage types, odd sizes, misaligned activations, T = 1
// (GEMV) and T > 1 (tiled GEMM), several thread counts; counters identical.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "tenx/ops/simd_kernels.hpp"
#include "ops/ops_test_util.hpp"
#include "tenx/ops/kernels.hpp"
#include "tenx/ops/reference.hpp"
#include "tenx/util/error.hpp"

namespace tenx {
namespace {

using testing::make_weight;
using testing::Misaligned;

std::vector<int64_t> row_lengths(DType t) {
  switch (t) {
    case DType::F32:
    case DType::F16:
    case DType::BF16: return {1, 3, 7, 15, 16, 17, 31, 32, 33, 64, 65, 100, 257};
    case DType::Q8_0:
    case DType::Q4_0: return {32, 64, 96, 288};
    default: return {256, 512};
  }
}

// Checks y (fast) against yr (reference) element by element with the float
// rounding bound of each dot product.
void expect_close(const float* y, const std::vector<float>& yr, const float* x, const TensorView& w,
                  int64_t T, const char* what) {
  const int64_t in = w.ne[0], out = w.ne[1];
  std::vector<float> row(static_cast<size_t>(in));
  for (int64_t o = 0; o < out; ++o) {
    dequantize_row(w.type, w.row(o), row.data(), in);
    for (int64_t t = 0; t < T; ++t) {
      double abs_sum = 0;
      for (int64_t k = 0; k < in; ++k) abs_sum += std::fabs(static_cast<double>(x[t * in + k]) * row[k]);
      const double tol = testing::dot_tolerance(in, abs_sum);
      ASSERT_NEAR(y[t * out + o], yr[static_cast<size_t>(t * out + o)], tol)
          << what << " " << dtype_name(w.type) << " in=" << in << " out=" << out << " T=" << T
          << " t=" << t << " o=" << o;
    }
  }
}

// Q8_0 / Q4_0 and Q4_K / Q6_K weights multiply 8-bit activations (ref::matmul_q8,
// ref::matmul_qk; matmul_q8_test.cpp and matmul_qk_test.cpp check them more tightly and
// against the float semantics); the others are float.
void reference_matmul(ExecContext& ctx, float* y, const float* x, const TensorView& w, int64_t T) {
  if (w.type == DType::Q8_0 || w.type == DType::Q4_0)
    ref::matmul_q8(ctx, y, x, w, T);
  else if (w.type == DType::Q4_K || w.type == DType::Q6_K)
    ref::matmul_qk(ctx, y, x, w, T);
  else
    ref::matmul(ctx, y, x, w, T);
}

const DType kAllTypes[] = {DType::F32, DType::F16, DType::BF16, DType::Q8_0,
                           DType::Q4_0, DType::Q4_K, DType::Q6_K};

TEST(Matmul, EveryIsaMatchesReference) {
  std::mt19937 rng(42);
  for (simd::Isa isa : {simd::Isa::Generic, simd::Isa::Avx2, simd::Isa::Avx512}) {
    if (!simd::isa_supported(isa)) {
      std::printf("note: %s not supported by this CPU, not tested\n", simd::kernels_for(isa).name);
      continue;
    }
    const auto& k = simd::kernels_for(isa);
    for (DType type : kAllTypes) {
      for (int64_t in : row_lengths(type)) {
        for (int64_t out : {1, 5, 33}) {
          const auto w = make_weight(rng, type, in, out, /*offset=*/out == 5 ? 1 : 0);
          for (int64_t T : {1, 2, 3, 5, 9}) {
            const Misaligned x(testing::random_floats(rng, T * in));
            Misaligned y(T * out, NAN);
            std::vector<float> yr(static_cast<size_t>(T * out));
            ExecContext fast(2), ref(1);
            simd::matmul_with(k, fast, y.data(), x.data(), w.view, T);
            reference_matmul(ref, yr.data(), x.data(), w.view, T);
            expect_close(y.data(), yr, x.data(), w.view, T, k.name);
            EXPECT_EQ(fast.counters, ref.counters);
          }
        }
      }
    }
  }
}

TEST(Matmul, PublicKernelLargerShapesAndThreadCounts) {
  std::mt19937 rng(3);
  for (DType type : kAllTypes) {
    const int64_t in = 512, out = 300;
    const auto w = make_weight(rng, type, in, out, /*offset=*/type == DType::Q8_0 ? 3 : 0);
    for (int threads : {1, 2, 3}) {
      for (int64_t T : {1, 7, 40}) {
        const auto x = testing::random_floats(rng, T * in);
        std::vector<float> y(static_cast<size_t>(T * out)), yr(y.size());
        ExecContext fast(threads), ref(1);
        fast.phase = ref.phase = Phase::Decode;
        matmul(fast, y.data(), x.data(), w.view, T);
        reference_matmul(ref, yr.data(), x.data(), w.view, T);
        expect_close(y.data(), yr, x.data(), w.view, T, "public");
        EXPECT_EQ(fast.counters, ref.counters);
      }
    }
  }
}

TEST(Matmul, CountsWhatTheHeaderSays) {
  std::mt19937 rng(5);
  const auto w = make_weight(rng, DType::Q8_0, 64, 10);
  const auto x = testing::random_floats(rng, 3 * 64);
  std::vector<float> y(30);
  ExecContext ctx(2);
  ctx.phase = Phase::Decode;
  matmul(ctx, y.data(), x.data(), w.view, 3);
  EXPECT_EQ(ctx.counters.flops[int(Phase::Decode)][int(OpClass::Matmul)], 2u * 3 * 64 * 10);
  EXPECT_EQ(ctx.counters.weight_bytes[int(Phase::Decode)][dtype_info(DType::Q8_0).slot], 2u * 34 * 10);
  EXPECT_EQ(ctx.counters.total_flops(), 2u * 3 * 64 * 10);
  EXPECT_EQ(ctx.counters.phase_flops(Phase::Prefill), 0u);
}

TEST(Matmul, HandComputedProduct) {
  // W = [[1, 2], [3, 4], [-1, 0.5]] (out = 3, in = 2), x = [[1, 1], [2, -1]].
  const std::vector<float> wf = {1, 2, 3, 4, -1, 0.5f};
  TensorView w;
  w.type = DType::F32;
  w.n_dims = 2;
  w.ne = {2, 3, 1, 1};
  w.data = reinterpret_cast<const uint8_t*>(wf.data());
  w.nbytes = wf.size() * 4;
  const std::vector<float> x = {1, 1, 2, -1};
  std::vector<float> y(6);
  ExecContext ctx(2);
  matmul(ctx, y.data(), x.data(), w, 2);
  const std::vector<float> expect = {3, 7, -0.5f, 0, 2, -2.5f};
  EXPECT_EQ(y, expect);
}

TEST(Matmul, BadWeightsAreClearErrors) {
  std::vector<uint8_t> bytes(1000);
  TensorView w;
  w.name = "blk.0.attn_q.weight";
  w.type = DType::Q8_0;
  w.n_dims = 2;
  w.ne = {33, 2, 1, 1};  // not a multiple of 32
  w.data = bytes.data();
  std::vector<float> x(66), y(4);
  ExecContext ctx(1);
  try {
    matmul(ctx, y.data(), x.data(), w, 1);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.subject(), "blk.0.attn_q.weight");
  }
  w.ne = {64, 100, 1, 1};
  w.nbytes = 100;  // too small for 100 rows of 68 bytes
  EXPECT_THROW(matmul(ctx, y.data(), x.data(), w, 1), Error);
  w.data = nullptr;
  w.nbytes = 0;
  EXPECT_THROW(ref::matmul(ctx, y.data(), x.data(), w, 1), Error);
}

}  // namespace
}  // namespace tenx
