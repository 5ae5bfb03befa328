// Finite-difference checks of every backward op, in double precision: for an op
// out = f(inputs), take the scalar loss Σ r·out with a fixed random r; the
// backward called with dout = r must give the central differences
// (loss(x + h) - loss(x - h)) / 2h of every input and weight element.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "tenx/train/ops.hpp"
#include "tenx/util/rng.hpp"

namespace tenx::train {
namespace {

std::vector<double> randn(size_t n, uint64_t seed, double scale = 1.0) {
  Rng rng(seed);
  std::vector<double> v(n);
  for (double& x : v) x = scale * (2.0 * rng.unit() - 1.0) * 1.7;
  return v;
}

double dotv(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// Checks analytic[i] == d loss / d x[i] by central differences (x perturbed in place).
void expect_gradient(const char* what, std::vector<double>& x, const std::vector<double>& analytic,
                     const std::function<double()>& loss, double tol = 1e-7) {
  ASSERT_EQ(x.size(), analytic.size()) << what;
  const double h = 1e-5;
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double keep = x[i];
    x[i] = keep + h;
    const double up = loss();
    x[i] = keep - h;
    const double down = loss();
    x[i] = keep;
    const double numeric = (up - down) / (2 * h);
    const double err = std::abs(numeric - analytic[i]) / std::max(1.0, std::abs(numeric));
    worst = std::max(worst, err);
    EXPECT_LT(err, tol) << what << "[" << i << "]: numeric " << numeric << " analytic " << analytic[i];
    if (err >= tol) return;  // one report per tensor is enough
  }
  EXPECT_LT(worst, tol) << what;
}

class TrainOpsGrad : public ::testing::Test {
 protected:
  ExecContext ctx{2};
};

TEST_F(TrainOpsGrad, Embedding) {
  const int64_t T = 5, C = 3, V = 4;
  std::vector<int32_t> ids = {1, 3, 1, 0, 1};  // repeated ids accumulate
  auto table = randn(V * C, 1), r = randn(T * C, 2);
  std::vector<double> out(T * C), dtable(V * C, 0.0);
  auto loss = [&] { embedding_forward(out.data(), ids.data(), table.data(), T, C); return dotv(out, r); };
  embedding_backward(dtable.data(), r.data(), ids.data(), T, C);
  expect_gradient("table", table, dtable, loss);
}

TEST_F(TrainOpsGrad, RmsNorm) {
  const int64_t T = 4, C = 7;
  auto x = randn(T * C, 3), w = randn(C, 4), r = randn(T * C, 5);
  std::vector<double> out(T * C), rstd(T), dx(T * C, 0.0), dw(C, 0.0);
  auto loss = [&] { rmsnorm_forward(ctx, out.data(), rstd.data(), x.data(), w.data(), T, C, 1e-5f); return dotv(out, r); };
  loss();
  rmsnorm_backward(ctx, dx.data(), dw.data(), r.data(), x.data(), w.data(), rstd.data(), T, C);
  expect_gradient("x", x, dx, loss);
  expect_gradient("w", w, dw, loss);
}

TEST_F(TrainOpsGrad, Matmul) {
  // C = 19 exercises the 8-lane body and the tail; T = 11 spans two row blocks.
  const int64_t T = 11, C = 19, OC = 5;
  auto x = randn(T * C, 6), w = randn(OC * C, 7), r = randn(T * OC, 8);
  std::vector<double> out(T * OC), dx(T * C, 0.0), dw(OC * C, 0.0);
  auto loss = [&] { matmul_forward(ctx, out.data(), x.data(), w.data(), T, C, OC); return dotv(out, r); };
  matmul_backward(ctx, dx.data(), dw.data(), r.data(), x.data(), w.data(), T, C, OC);
  expect_gradient("x", x, dx, loss);
  expect_gradient("w", w, dw, loss);
  // Against a hand-written product for one element.
  loss();
  double s = 0;
  for (int64_t c = 0; c < C; ++c) s += x[3 * C + c] * w[2 * C + c];
  EXPECT_NEAR(out[3 * OC + 2], s, 1e-12);
}

TEST_F(TrainOpsGrad, Rope) {
  const int64_t T = 3, H = 2, hd = 6;
  std::vector<int32_t> pos = {0, 5, 2};
  auto x = randn(T * H * hd, 9), r = randn(T * H * hd, 10);
  auto loss = [&] {
    std::vector<double> y = x;
    rope_forward(ctx, y.data(), pos.data(), T, H, hd, 10000.0f);
    return dotv(y, r);
  };
  std::vector<double> dx = r;
  rope_backward(ctx, dx.data(), pos.data(), T, H, hd, 10000.0f);
  expect_gradient("x", x, dx, loss);
  // Position 0 is the identity.
  std::vector<double> y = x;
  rope_forward(ctx, y.data(), pos.data(), 1, H, hd, 10000.0f);
  for (int64_t i = 0; i < H * hd; ++i) EXPECT_EQ(y[i], x[i]);
}

TEST_F(TrainOpsGrad, AttentionPackedGrouped) {
  // Two rows of 5 tokens; row 0 holds documents [0,2) and [2,5); 4 query heads share 2 K/V heads.
  const int64_t B = 2, L = 5;
  const AttentionDims d{4, 2, 3};
  const int64_t T = B * L, qd = d.n_head * d.head_dim, kvd = d.n_head_kv * d.head_dim;
  std::vector<int32_t> doc_start = {0, 0, 2, 2, 2, 0, 0, 0, 0, 4};
  auto q = randn(T * qd, 11), k = randn(T * kvd, 12), v = randn(T * kvd, 13), r = randn(T * qd, 14);
  std::vector<double> out(T * qd), probs(B * d.n_head * L * L);
  std::vector<double> dq(T * qd, 0.0), dk(T * kvd, 0.0), dv(T * kvd, 0.0);
  auto loss = [&] {
    attention_forward(ctx, out.data(), probs.data(), q.data(), k.data(), v.data(), doc_start.data(), B, L, d);
    return dotv(out, r);
  };
  loss();
  attention_backward(ctx, dq.data(), dk.data(), dv.data(), r.data(), probs.data(), q.data(), k.data(), v.data(),
                     doc_start.data(), B, L, d);
  expect_gradient("q", q, dq, loss);
  expect_gradient("k", k, dk, loss);
  expect_gradient("v", v, dv, loss);
  // The first token of a document sees only itself: its output is its own value.
  for (int64_t dd = 0; dd < d.head_dim; ++dd) EXPECT_NEAR(out[2 * qd + dd], v[2 * kvd + dd], 1e-12);
}

TEST_F(TrainOpsGrad, SwiGlu) {
  const int64_t n = 13;
  auto g = randn(n, 15, 2.0), u = randn(n, 16), r = randn(n, 17);
  std::vector<double> out(n), dg(n, 0.0), du(n, 0.0);
  auto loss = [&] { swiglu_forward(ctx, out.data(), g.data(), u.data(), n); return dotv(out, r); };
  swiglu_backward(ctx, dg.data(), du.data(), r.data(), g.data(), u.data(), n);
  expect_gradient("gate", g, dg, loss);
  expect_gradient("up", u, du, loss);
}

TEST_F(TrainOpsGrad, CrossEntropy) {
  const int64_t T = 4, V = 9;
  auto z = randn(T * V, 18, 3.0), r = randn(T, 19);
  std::vector<int32_t> targets = {3, 0, 8, 5};
  std::vector<double> weight = {1, 0, 1, 1}, losses(T), dz(T * V, 0.0);
  for (int64_t t = 0; t < T; ++t) r[t] *= weight[t];
  auto loss = [&] { cross_entropy_forward(ctx, losses.data(), z.data(), targets.data(), weight.data(), T, V); return dotv(losses, r); };
  loss();
  EXPECT_EQ(losses[1], 0.0);
  // Hand-computed for row 0: log Σ exp(z) - z[3].
  double se = 0;
  for (int64_t i = 0; i < V; ++i) se += std::exp(z[i]);
  EXPECT_NEAR(losses[0], std::log(se) - z[3], 1e-12);
  cross_entropy_backward(ctx, dz.data(), z.data(), targets.data(), r.data(), T, V);
  expect_gradient("logits", z, dz, loss);
}

TEST_F(TrainOpsGrad, KlDistill) {
  const int64_t T = 3, V = 7;
  const float tau = 2.0f;
  auto z = randn(T * V, 20, 3.0), r = randn(T, 21);
  std::vector<float> teacher(T * V);
  auto tv = randn(T * V, 22, 3.0);
  for (size_t i = 0; i < tv.size(); ++i) teacher[i] = static_cast<float>(tv[i]);
  std::vector<double> weight(T, 1.0), losses(T), dz(T * V, 0.0);
  auto loss = [&] { kl_distill_forward(ctx, losses.data(), z.data(), teacher.data(), weight.data(), T, V, tau); return dotv(losses, r); };
  loss();
  for (double l : losses) EXPECT_GT(l, 0.0);
  kl_distill_backward(ctx, dz.data(), z.data(), teacher.data(), r.data(), T, V, tau);
  expect_gradient("logits", z, dz, loss);
  // A student equal to the teacher has zero loss.
  std::vector<double> same(tv.begin(), tv.end());
  for (size_t i = 0; i < same.size(); ++i) same[i] = teacher[i];
  kl_distill_forward(ctx, losses.data(), same.data(), teacher.data(), weight.data(), T, V, tau);
  for (double l : losses) EXPECT_NEAR(l, 0.0, 1e-12);
}

}  // namespace
}  // namespace tenx::train
