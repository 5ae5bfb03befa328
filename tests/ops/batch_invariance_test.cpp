// Batch invariance: a row's result must not depend on what it was computed with. `tenx run
// --batch K` puts one sequence's decode token in the same forward as other sequences' tokens,
// and its records must equal those of K = 1 byte for byte (docs/evaluation.md, "Batching").
// So for every storage type a matmul row, and for every model an attention query, must
// come out bit-identical whether it ran alone (decode, GEMV), among other rows (GEMM tiles),
// at any position in the batch, with any thread count. The independent check here is the
// single-row computation itself: the same kernel with T = 1 is the oracle for each row.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "ops/ops_test_util.hpp"
#include "tenx/ops/kernels.hpp"
#include "tenx/ops/simd_kernels.hpp"

namespace tenx {
namespace {

using testing::make_weight;

bool bit_equal(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

std::vector<simd::Isa> supported_isas() {
  std::vector<simd::Isa> out;
  for (simd::Isa isa : {simd::Isa::Generic, simd::Isa::Avx2, simd::Isa::Avx512}) {
    if (simd::isa_supported(isa)) out.push_back(isa);
    else std::printf("note: %s not supported by this CPU, not tested\n", simd::kernels_for(isa).name);
  }
  return out;
}

TEST(BatchInvariance, FloatMatmulRowIsTheSameAloneAndInAnyBatch) {
  std::mt19937 rng(7);
  for (simd::Isa isa : supported_isas()) {
    const simd::Kernels& k = simd::kernels_for(isa);
    for (DType type : {DType::F32, DType::F16, DType::BF16}) {
      for (int64_t in : {16, 17, 64, 100, 257}) {
        const int64_t out = 37;
        const auto w = make_weight(rng, type, in, out, /*offset=*/in == 17 ? 2 : 0);
        for (int64_t T : {2, 3, 5, 13}) {
          const std::vector<float> x = testing::random_floats(rng, T * in);
          for (int threads : {1, 2}) {
            ExecContext ctx(threads);
            std::vector<float> batched(static_cast<size_t>(T * out));
            matmul_with(k, ctx, batched.data(), x.data(), w.view, T);
            for (int64_t t = 0; t < T; ++t) {
              std::vector<float> alone(static_cast<size_t>(out));
              matmul_with(k, ctx, alone.data(), x.data() + t * in, w.view, 1);
              for (int64_t o = 0; o < out; ++o)
                ASSERT_TRUE(bit_equal(alone[static_cast<size_t>(o)], batched[static_cast<size_t>(t * out + o)]))
                    << k.name << " " << dtype_name(type) << " in=" << in << " T=" << T << " t=" << t << " o=" << o
                    << " threads=" << threads << ": alone " << alone[static_cast<size_t>(o)] << " batched "
                    << batched[static_cast<size_t>(t * out + o)];
            }
          }
        }
      }
    }
  }
}

// The quantized storage types: every activation row is quantized on its own (Q8_0 blocks or
// Q8_K super-blocks), and each weight block's dot product with it is an exact integer; what
// batching could change is the float sum of the scaled blocks. Decode shapes (T <= 3: the raw-row
// GEMV for Q8_0/Q4_0, the four-row decode for T = 1 of Q4_K/Q6_K) and prefill shapes (packed or
// token tiles, full and partial, T up to 17), rows past whole tiles and groups (out = 37, 70),
// thread counts 1-3 (which move the row split), misaligned weights.
TEST(BatchInvariance, QuantizedMatmulRowIsTheSameAloneAndInAnyBatch) {
  std::mt19937 rng(13);
  for (simd::Isa isa : supported_isas()) {
    const simd::Kernels& k = simd::kernels_for(isa);
    for (DType type : {DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q6_K}) {
      const bool kquant = type == DType::Q4_K || type == DType::Q6_K;
      for (int64_t in : kquant ? std::vector<int64_t>{256, 768} : std::vector<int64_t>{32, 96, 160, 768}) {
        for (int64_t out : {37, 70}) {
          const auto w = make_weight(rng, type, in, out, /*offset=*/out == 70 ? 2 : 0);
          for (int64_t T : {2, 3, 4, 5, 9, 13, 17}) {
            const std::vector<float> x = testing::random_floats(rng, T * in);
            for (int threads : {1, 2, 3}) {
              ExecContext ctx(threads);
              std::vector<float> batched(static_cast<size_t>(T * out));
              matmul_with(k, ctx, batched.data(), x.data(), w.view, T);
              for (int64_t t = 0; t < T; ++t) {
                std::vector<float> alone(static_cast<size_t>(out));
                matmul_with(k, ctx, alone.data(), x.data() + t * in, w.view, 1);
                for (int64_t o = 0; o < out; ++o)
                  ASSERT_TRUE(bit_equal(alone[static_cast<size_t>(o)], batched[static_cast<size_t>(t * out + o)]))
                      << k.name << " " << dtype_name(type) << " in=" << in << " out=" << out << " T=" << T
                      << " t=" << t << " o=" << o << " threads=" << threads << ": alone "
                      << alone[static_cast<size_t>(o)] << " batched " << batched[static_cast<size_t>(t * out + o)];
              }
            }
          }
        }
      }
    }
  }
}

// Queries of several sequences (each with its own keys) in one call against each query alone:
// decode-shaped (one query per sequence) and prefill-shaped (a run of queries over one cache),
// GQA groups of 1, 2 and 4 heads, thread counts 1 and 3 (which change the task split).
TEST(BatchInvariance, AttentionQueryIsTheSameAloneAndInAnyBatch) {
  std::mt19937 rng(11);
  for (simd::Isa isa : supported_isas()) {
    const simd::Kernels& k = simd::kernels_for(isa);
    for (int64_t group : {1, 2, 4}) {
      const AttentionShape shape{2 * group, 2, 16};
      const int64_t q_dim = shape.n_head * shape.head_dim, kv_dim = shape.n_head_kv * shape.head_dim;
      // Three caches of different lengths; the batch: a decode query of cache 0, five prefill
      // queries of cache 1 (keys 3..7), a decode query of cache 2.
      const int64_t lens[] = {9, 7, 40};
      std::vector<std::vector<float>> K, V;
      for (int64_t n : lens) {
        K.push_back(testing::random_floats(rng, n * kv_dim));
        V.push_back(testing::random_floats(rng, n * kv_dim));
      }
      std::vector<AttentionKeys> keys = {{K[0].data(), V[0].data(), 9}};
      for (int64_t n = 3; n <= 7; ++n) keys.push_back({K[1].data(), V[1].data(), n});
      keys.push_back({K[2].data(), V[2].data(), 40});
      const auto T = static_cast<int64_t>(keys.size());
      const std::vector<float> q = testing::random_floats(rng, T * q_dim);
      for (int threads : {1, 3}) {
        ExecContext ctx(threads);
        std::vector<float> batched(static_cast<size_t>(T * q_dim));
        attention_with(k, ctx, batched.data(), q.data(), keys.data(), T, shape);
        for (int64_t t = 0; t < T; ++t) {
          std::vector<float> alone(static_cast<size_t>(q_dim));
          attention_with(k, ctx, alone.data(), q.data() + t * q_dim, &keys[static_cast<size_t>(t)], 1, shape);
          for (int64_t d = 0; d < q_dim; ++d)
            ASSERT_TRUE(bit_equal(alone[static_cast<size_t>(d)], batched[static_cast<size_t>(t * q_dim + d)]))
                << k.name << " group=" << group << " threads=" << threads << " query " << t << " element " << d;
        }
      }
    }
  }
}

}  // namespace
}  // namespace tenx
