// matmul_shared_input (q/k/v and gate/up in one dispatch) against what it
// promises: every output bit-identical to separate matmul calls and the same
// counters, for every storage type and the decode and prefill row counts; and
// the F32 decode kernel's row values independent of how rows are split over
// threads (its four-stream loop must sum a leftover row like the others).
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "ops/ops_test_util.hpp"
#include "tenx/ops/kernels.hpp"
#include "tenx/ops/reference.hpp"
#include "tenx/util/error.hpp"

namespace tenx {
namespace {

using testing::make_weight;
using testing::Misaligned;

void expect_same_counters(const Counters& a, const Counters& b) {
  EXPECT_EQ(0, std::memcmp(a.flops, b.flops, sizeof a.flops));
  EXPECT_EQ(0, std::memcmp(a.weight_bytes, b.weight_bytes, sizeof a.weight_bytes));
}

TEST(MatmulSharedInput, BitIdenticalToSeparateCallsForEveryTypeAndRowCount) {
  std::mt19937 rng(11);
  // Output sizes like q/k/v of a GQA model: one large, two small and odd.
  const int64_t in = 256, outs[] = {200, 40, 37};
  for (DType type : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q6_K}) {
    std::vector<testing::OwnedWeight> w;
    for (int64_t out : outs) w.push_back(make_weight(rng, type, in, out, /*offset=*/3));
    for (int64_t T : {1, 2, 3, 5}) {
      for (int threads : {1, 2, 3}) {
        const Misaligned x(testing::random_floats(rng, T * in));
        ExecContext fused(threads), separate(threads);
        std::vector<std::vector<float>> y_fused, y_separate;
        std::vector<MatmulOutput> targets;
        for (size_t i = 0; i < w.size(); ++i) {
          y_fused.emplace_back(static_cast<size_t>(T * outs[i]), -1.0f);
          y_separate.emplace_back(static_cast<size_t>(T * outs[i]), -2.0f);
        }
        for (size_t i = 0; i < w.size(); ++i) targets.push_back({y_fused[i].data(), &w[i].view});
        matmul_shared_input(fused, x.data(), T, targets);
        for (size_t i = 0; i < w.size(); ++i) matmul(separate, y_separate[i].data(), x.data(), w[i].view, T);
        const std::string where = std::string(dtype_name(type)) + " T=" + std::to_string(T) +
                                  " threads=" + std::to_string(threads);
        for (size_t i = 0; i < w.size(); ++i)
          for (size_t j = 0; j < y_fused[i].size(); ++j)
            ASSERT_EQ(y_fused[i][j], y_separate[i][j]) << where << " weight " << i << " element " << j;
        expect_same_counters(fused.counters, separate.counters);
      }
    }
  }
}

TEST(MatmulSharedInput, MixedKQuantsShareOneQuantizationBitIdentically) {
  // A Q4_K_M file keeps some matrices (e.g. v) in Q6_K: both K-quants take Q8_K
  // activations, so the group still goes out in one dispatch.
  std::mt19937 rng(15);
  const int64_t in = 512;
  auto wq = make_weight(rng, DType::Q4_K, in, 96), wk = make_weight(rng, DType::Q4_K, in, 32),
       wv = make_weight(rng, DType::Q6_K, in, 32, /*offset=*/1);
  const Misaligned x(testing::random_floats(rng, in));
  for (int threads : {1, 2}) {
    std::vector<float> q(96), k(32), v(32), qs(96), ks(32), vs(32);
    ExecContext fused(threads), separate(threads);
    const MatmulOutput targets[] = {{q.data(), &wq.view}, {k.data(), &wk.view}, {v.data(), &wv.view}};
    matmul_shared_input(fused, x.data(), 1, targets);
    matmul(separate, qs.data(), x.data(), wq.view, 1);
    matmul(separate, ks.data(), x.data(), wk.view, 1);
    matmul(separate, vs.data(), x.data(), wv.view, 1);
    EXPECT_EQ(q, qs);
    EXPECT_EQ(k, ks);
    EXPECT_EQ(v, vs);
    expect_same_counters(fused.counters, separate.counters);
  }
}

TEST(MatmulSharedInput, MixedTypesAndCloseToTheReference) {
  // A Q4_K_M-like mix (v in another type) takes the one-call-each route; the
  // values still match the scalar reference within the float semantics' rounding.
  std::mt19937 rng(12);
  const int64_t in = 128;
  auto wq = make_weight(rng, DType::F32, in, 64), wk = make_weight(rng, DType::F16, in, 16),
       wv = make_weight(rng, DType::Q8_0, in, 16);
  const Misaligned x(testing::random_floats(rng, in));
  std::vector<float> q(64), k(16), v(16), qr(64), kr(16), vr(16);
  ExecContext ctx(2), ref_ctx(1);
  const MatmulOutput targets[] = {{q.data(), &wq.view}, {k.data(), &wk.view}, {v.data(), &wv.view}};
  matmul_shared_input(ctx, x.data(), 1, targets);
  ref::matmul(ref_ctx, qr.data(), x.data(), wq.view, 1);
  ref::matmul(ref_ctx, kr.data(), x.data(), wk.view, 1);
  ref::matmul_q8(ref_ctx, vr.data(), x.data(), wv.view, 1);
  for (int i = 0; i < 64; ++i) EXPECT_NEAR(q[i], qr[i], 1e-4) << i;
  for (int i = 0; i < 16; ++i) EXPECT_NEAR(k[i], kr[i], 1e-4) << i;
  for (int i = 0; i < 16; ++i) EXPECT_NEAR(v[i], vr[i], 1e-4) << i;
  expect_same_counters(ctx.counters, ref_ctx.counters);
}

TEST(MatmulSharedInput, RowLengthsMustAgree) {
  std::mt19937 rng(13);
  auto a = make_weight(rng, DType::F32, 64, 8), b = make_weight(rng, DType::F32, 96, 8);
  b.view.name = "blk.0.attn_k.weight";
  std::vector<float> x(96), ya(8), yb(8);
  ExecContext ctx(1);
  const MatmulOutput targets[] = {{ya.data(), &a.view}, {yb.data(), &b.view}};
  try {
    matmul_shared_input(ctx, x.data(), 1, targets);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("blk.0.attn_k.weight"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("96"), std::string::npos) << e.what();
  }
}

TEST(MatmulSharedInput, F32DecodeRowsDoNotDependOnTheThreadCount) {
  // 1, 2 and 3 threads split the rows into different tasks, so different rows are
  // leftovers of the four-stream loop; every row must come out the same.
  std::mt19937 rng(14);
  for (int64_t in : {7, 64, 100, 768}) {
    for (int64_t out : {1, 5, 37, 300}) {
      auto w = make_weight(rng, DType::F32, in, out, /*offset=*/4);
      const Misaligned x(testing::random_floats(rng, in));
      std::vector<float> y1(static_cast<size_t>(out)), y;
      ExecContext one(1);
      matmul(one, y1.data(), x.data(), w.view, 1);
      for (int threads : {2, 3}) {
        ExecContext ctx(threads);
        y.assign(static_cast<size_t>(out), 0.0f);
        matmul(ctx, y.data(), x.data(), w.view, 1);
        for (int64_t r = 0; r < out; ++r)
          ASSERT_EQ(y[static_cast<size_t>(r)], y1[static_cast<size_t>(r)])
              << "in=" << in << " out=" << out << " threads=" << threads << " row " << r;
      }
      // And the value is the dot product (float rounding of the double reference).
      std::vector<float> yr(static_cast<size_t>(out));
      ExecContext ref_ctx(1);
      ref::matmul(ref_ctx, yr.data(), x.data(), w.view, 1);
      for (int64_t r = 0; r < out; ++r) {
        double abs_sum = 0;
        const float* row = reinterpret_cast<const float*>(w.view.row(r));
        for (int64_t i = 0; i < in; ++i) {
          float wi;
          std::memcpy(&wi, row + i, sizeof wi);
          abs_sum += std::abs(static_cast<double>(wi) * x.data()[i]);
        }
        EXPECT_NEAR(y1[static_cast<size_t>(r)], yr[static_cast<size_t>(r)], testing::dot_tolerance(in, abs_sum));
      }
    }
  }
}

}  // namespace
}  // namespace tenx
