// The small kernels (rmsnorm, rope, silu_mul, add_bias, add_inplace, embed,
// log_softmax): hand-computed values, then fast vs reference over odd sizes and
// misaligned buffers, with identical counters.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "tenx/ops/simd_kernels.hpp"
#include "ops/ops_test_util.hpp"
#include "tenx/ops/kernels.hpp"
#include "tenx/ops/reference.hpp"
#include "tenx/tensor/half.hpp"
#include "tenx/util/error.hpp"

namespace tenx {
namespace {

using testing::Misaligned;
using testing::random_floats;

const int64_t kSizes[] = {1, 3, 7, 15, 16, 17, 31, 32, 33, 64, 65, 100, 257};

TEST(RmsNorm, HandComputed) {
  const std::vector<float> x = {1, 2, 3, 4}, w = {1, 0.5f, 2, -1};
  std::vector<float> y(4);
  ExecContext ctx(1);
  rmsnorm(ctx, y.data(), x.data(), w.data(), 1, 4, 0.0f);
  const float s = 0.365148371670111f;  // 1 / sqrt((1 + 4 + 9 + 16) / 4)
  EXPECT_NEAR(y[0], 1 * s, 1e-7);
  EXPECT_NEAR(y[1], 2 * s * 0.5f, 1e-7);
  EXPECT_NEAR(y[2], 3 * s * 2, 1e-6);
  EXPECT_NEAR(y[3], -4 * s, 1e-6);
  EXPECT_EQ(ctx.counters.flops[0][int(OpClass::Other)], 4 * flop_cost::kRmsNorm);
}

TEST(Rope, HandComputedRotation) {
  // head_dim 6, n_rot 4 (last two dims untouched), pos 1, base 10000:
  // theta_0 = 1, theta_1 = 10000^(-2/4) = 0.01.
  const double c0 = 0.5403023058681398, s0 = 0.8414709848078965;
  const double c1 = 0.9999500004166653, s1 = 0.009999833334166664;
  const std::vector<float> x = {1, 2, 3, 4, 5, 6};
  const int32_t pos = 1;
  ExecContext ctx(1);
  std::vector<float> n = x;
  rope(ctx, n.data(), 1, 1, 6, 4, &pos, 10000.0f, RopeStyle::Normal);  // pairs (0,1), (2,3)
  EXPECT_NEAR(n[0], 1 * c0 - 2 * s0, 1e-6);
  EXPECT_NEAR(n[1], 1 * s0 + 2 * c0, 1e-6);
  EXPECT_NEAR(n[2], 3 * c1 - 4 * s1, 1e-6);
  EXPECT_NEAR(n[3], 3 * s1 + 4 * c1, 1e-6);
  EXPECT_EQ(n[4], 5.0f);
  EXPECT_EQ(n[5], 6.0f);
  std::vector<float> x2 = x;
  rope(ctx, x2.data(), 1, 1, 6, 4, &pos, 10000.0f, RopeStyle::NeoX);  // pairs (0,2), (1,3)
  EXPECT_NEAR(x2[0], 1 * c0 - 3 * s0, 1e-6);
  EXPECT_NEAR(x2[2], 1 * s0 + 3 * c0, 1e-6);
  EXPECT_NEAR(x2[1], 2 * c1 - 4 * s1, 1e-6);
  EXPECT_NEAR(x2[3], 2 * s1 + 4 * c1, 1e-6);
  EXPECT_EQ(x2[4], 5.0f);
  EXPECT_EQ(ctx.counters.flops[0][int(OpClass::Other)], 2 * 4 * flop_cost::kRope);
  // Position 0 is the identity.
  const int32_t zero = 0;
  std::vector<float> x3 = x;
  rope(ctx, x3.data(), 1, 1, 6, 6, &zero, 10000.0f, RopeStyle::NeoX);
  EXPECT_EQ(x3, x);
  EXPECT_THROW(rope(ctx, x3.data(), 1, 1, 6, 7, &zero, 10000.0f, RopeStyle::NeoX), Error);
}

TEST(SiluMul, HandComputed) {
  std::vector<float> g = {1, 0, -2}, u = {2, 5, 1};
  ExecContext ctx(1);
  silu_mul(ctx, g.data(), u.data(), 3);
  EXPECT_NEAR(g[0], 1.4621171572600098, 1e-6);  // 2 / (1 + e^-1)
  EXPECT_EQ(g[1], 0.0f);
  EXPECT_NEAR(g[2], -0.23840584404423515, 1e-6);  // -2 / (1 + e^2)
}

TEST(GeluMul, HandComputed) {
  // gelu_tanh(x) = x/2 · (1 + tanh(sqrt(2/pi) · (x + 0.044715 x³))), as ggml_gelu and
  // Hugging Face's gelu_pytorch_tanh.
  std::vector<float> g = {1, 0, -2, 12}, u = {2, 5, 1, 1};
  ExecContext ctx(1);
  gelu_mul(ctx, g.data(), u.data(), 4);
  EXPECT_NEAR(g[0], 2 * 0.8411919906082768, 1e-6);
  EXPECT_EQ(g[1], 0.0f);
  EXPECT_NEAR(g[2], -0.04540230591222494, 1e-6);
  EXPECT_EQ(g[3], 12.0f);  // tanh saturates: the identity
  EXPECT_EQ(ctx.counters.flops[0][int(OpClass::Other)], 4 * flop_cost::kGeluMul);
}

TEST(GeluMul, PrefillSizedRunsInChunksLikeTheReference) {
  std::mt19937 rng(5);
  const int64_t n = 40000;  // above the 16384-element chunk: split over the pool
  Misaligned g(random_floats(rng, n, 6.0f));
  Misaligned gr = g;
  const Misaligned u(random_floats(rng, n));
  ExecContext fast(2), ref(1);
  gelu_mul(fast, g.data(), u.data(), n);
  ref::gelu_mul(ref, gr.data(), u.data(), n);
  for (int64_t i = 0; i < n; ++i) ASSERT_NEAR(g[i], gr[i], 2e-6 * (1 + std::fabs(gr[i]))) << i;
  EXPECT_EQ(fast.counters, ref.counters);
}

// GeluNumerics::ggml_f16_table against llama.cpp's method written out here: the whole table built
// as ggml_cpu_init does (every F16 bit pattern -> F16 of ggml_gelu_f32), indexed by the input's
// F16 bits, with ggml_vec_geglu_f32's cut-offs at -10 and 10. Also: the mode differs from the
// exact GELU by what an F16 rounding explains (so it is neither a no-op nor something else).
TEST(GeluMul, GgmlF16TableModeIsLlamaCppsLookup) {
  std::vector<uint16_t> table(1 << 16);
  for (uint32_t i = 0; i < table.size(); ++i) {
    const float x = f16_to_f32(static_cast<uint16_t>(i));
    table[i] = f32_to_f16(0.5f * x * (1.0f + std::tanh(0.79788456080286535587989211986876f * x * (1.0f + 0.044715f * x * x))));
  }
  std::mt19937 rng(9);
  const int64_t n = 20000;
  std::vector<float> g = random_floats(rng, n, 12.0f), u = random_floats(rng, n);
  g[0] = -10.0f, g[1] = 10.0f, g[2] = -9.999f, g[3] = 0.0f;
  std::vector<float> exact = g, emulated = g;
  ExecContext ctx_exact(1), ctx_table(2);
  ctx_table.gelu_numerics = GeluNumerics::ggml_f16_table;
  gelu_mul(ctx_exact, exact.data(), u.data(), n);
  gelu_mul(ctx_table, emulated.data(), u.data(), n);
  int differ = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float x = g[i];
    const float want = x <= -10.0f ? 0.0f : x >= 10.0f ? x * u[i] : f16_to_f32(table[f32_to_f16(x)]) * u[i];
    ASSERT_EQ(emulated[i], want) << "x = " << x;
    // Two F16 roundings (input, output) and the slope of gelu (< 1.13): about 3 half-ulps.
    ASSERT_NEAR(emulated[i], exact[i], 2e-3 * std::fabs(u[i]) * (std::fabs(x) + 1e-2)) << "x = " << x;
    differ += emulated[i] != exact[i];
  }
  EXPECT_GT(differ, n / 3);  // inputs beyond ±10 (a sixth of them) are the same in both
  EXPECT_EQ(ctx_table.counters, ctx_exact.counters);  // the same operation counted the same
}

// The ViT's activations (gelu(), tanh and quick) under ggml_f16_table against llama.cpp's tables
// written out as ggml_cpu_init builds them (ggml_table_gelu_f16 and ggml_table_gelu_quick_f16),
// looked up as ggml_vec_gelu_f32 (with the ±10 cut-offs) and ggml_vec_gelu_quick_f32 (without) do;
// the erf GELU, which llama.cpp computes directly, stays exact.
TEST(Gelu, GgmlF16TableModeIsLlamaCppsLookupForTanhAndQuick) {
  std::vector<uint16_t> tanh_table(1 << 16), quick_table(1 << 16);
  for (uint32_t i = 0; i < tanh_table.size(); ++i) {
    const float x = f16_to_f32(static_cast<uint16_t>(i));
    tanh_table[i] = f32_to_f16(0.5f * x * (1.0f + std::tanh(0.79788456080286535587989211986876f * x * (1.0f + 0.044715f * x * x))));
    quick_table[i] = f32_to_f16(x * (1.0f / (1.0f + std::exp(-1.702f * x))));
  }
  std::mt19937 rng(11);
  const int64_t n = 40000;  // more than one 16384-element chunk: the pool's split is covered
  const std::vector<float> x = random_floats(rng, n, 12.0f);
  ExecContext exact(1), table(2);
  table.gelu_numerics = GeluNumerics::ggml_f16_table;
  for (GeluKind kind : {GeluKind::Tanh, GeluKind::Quick, GeluKind::Erf}) {
    std::vector<float> a = x, b = x;
    gelu(exact, a.data(), n, kind);
    gelu(table, b.data(), n, kind);
    int differ = 0;
    for (int64_t i = 0; i < n; ++i) {
      const float v = x[i];
      float want = b[i];
      if (kind == GeluKind::Tanh) want = v <= -10.0f ? 0.0f : v >= 10.0f ? v : f16_to_f32(tanh_table[f32_to_f16(v)]);
      if (kind == GeluKind::Quick) want = f16_to_f32(quick_table[f32_to_f16(v)]);
      if (kind == GeluKind::Erf) want = a[i];
      ASSERT_EQ(b[i], want) << "kind " << int(kind) << " x = " << v;
      ASSERT_NEAR(b[i], a[i], 2e-3 * (std::fabs(v) + 1e-2)) << "kind " << int(kind) << " x = " << v;
      differ += b[i] != a[i];
    }
    if (kind != GeluKind::Erf) EXPECT_GT(differ, n / 3) << "kind " << int(kind);
  }
  EXPECT_EQ(table.counters, exact.counters);
}

TEST(ScaleRows, MultipliesAndCounts) {
  std::vector<float> y = {1, -2, 0.5f};
  ExecContext ctx(1);
  scale_rows(ctx, y.data(), 3, 8.0f);
  EXPECT_EQ(y, (std::vector<float>{8, -16, 4}));
  EXPECT_EQ(ctx.counters.flops[0][int(OpClass::Other)], 3 * flop_cost::kScale);
}

// muse-glimmer's gate: y · 1/(1+exp(-g)); sigmoid(0) = 1/2, sigmoid(ln 3) = 3/4.
TEST(SigmoidMul, HandComputedAndLikeTheReference) {
  std::vector<float> y = {2, 4, -8}, g = {0, std::log(3.0f), -30};
  ExecContext ctx(1), ref(1);
  sigmoid_mul(ctx, y.data(), g.data(), 3);
  EXPECT_EQ(y[0], 1.0f);
  EXPECT_NEAR(y[1], 3.0, 1e-6);
  EXPECT_NEAR(y[2], -8.0 / (1.0 + std::exp(30.0)), 1e-17);
  EXPECT_EQ(ctx.counters.flops[0][int(OpClass::Other)], 3 * flop_cost::kSigmoidMul);
  std::mt19937 rng(7);
  const auto x = random_floats(rng, 1000, 8.0f), gate = random_floats(rng, 1000, 8.0f);
  std::vector<float> a = x, b = x;
  sigmoid_mul(ctx, a.data(), gate.data(), 1000);
  ref::sigmoid_mul(ref, b.data(), gate.data(), 1000);
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-6 * (1 + std::fabs(b[i]))) << i;
}

// The logit soft-cap c·tanh(x/c): tanh(1) = 0.7615941559557649, odd, saturating at ±c.
TEST(Softcap, HandComputedAndLikeTheReference) {
  std::vector<float> y = {3, -3, 0, 1e4f};
  ExecContext ctx(1), ref(1);
  softcap(ctx, y.data(), 4, 3.0f);
  EXPECT_NEAR(y[0], 3 * 0.7615941559557649, 1e-6);
  EXPECT_EQ(y[1], -y[0]);
  EXPECT_EQ(y[2], 0.0f);
  EXPECT_EQ(y[3], 3.0f);
  EXPECT_EQ(ctx.counters.flops[0][int(OpClass::Other)], 4 * flop_cost::kSoftcap);
  std::mt19937 rng(8);
  const auto x = random_floats(rng, 1000, 20.0f);
  std::vector<float> a = x, b = x;
  softcap(ctx, a.data(), 1000, 5.0f);
  ref::softcap(ref, b.data(), 1000, 5.0f);
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-6 * (1 + std::fabs(b[i]))) << i;
}

TEST(LogSoftmax, HandComputed) {
  const std::vector<float> logits = {0.0f, static_cast<float>(std::log(3.0))};
  std::vector<double> out(2);
  ExecContext ctx(1);
  log_softmax(ctx, out.data(), logits.data(), 2);
  EXPECT_NEAR(out[0], std::log(0.25), 1e-7);
  EXPECT_NEAR(out[1], std::log(0.75), 1e-7);
}

TEST(LogSoftmax, VocabSizedIsThreadCountIndependent) {
  std::mt19937 rng(19);
  const int64_t n = 32001;
  const auto logits = random_floats(rng, n, 4.0f);
  std::vector<double> expect(n), first;
  ExecContext ref(1);
  ref::log_softmax(ref, expect.data(), logits.data(), n);
  for (int threads : {1, 2, 3}) {
    ExecContext ctx(threads);
    std::vector<double> out(n);
    log_softmax(ctx, out.data(), logits.data(), n);
    for (int64_t i = 0; i < n; ++i) ASSERT_NEAR(out[i], expect[i], 1e-11) << i;
    if (first.empty()) first = out;
    EXPECT_EQ(out, first) << threads << " threads";
    EXPECT_EQ(ctx.counters, ref.counters);
  }
}

TEST(Elementwise, FastMatchesReference) {
  std::mt19937 rng(11);
  for (int64_t n : kSizes) {
    for (int64_t T : {1, 3}) {
      ExecContext fast(2), ref(1);
      const Misaligned x(random_floats(rng, T * n)), w(random_floats(rng, n));
      // rmsnorm
      Misaligned y(T * n), yr(T * n);
      rmsnorm(fast, y.data(), x.data(), w.data(), T, n, 1e-5f);
      ref::rmsnorm(ref, yr.data(), x.data(), w.data(), T, n, 1e-5f);
      for (int64_t i = 0; i < T * n; ++i) ASSERT_NEAR(y[i], yr[i], 2e-6 * (1 + std::fabs(yr[i]))) << n;
      // add_bias, add_inplace
      Misaligned a(random_floats(rng, T * n));
      Misaligned ar = a;
      add_bias(fast, a.data(), w.data(), T, n);
      ref::add_bias(ref, ar.data(), w.data(), T, n);
      add_inplace(fast, a.data(), x.data(), T * n);
      ref::add_inplace(ref, ar.data(), x.data(), T * n);
      for (int64_t i = 0; i < T * n; ++i) ASSERT_EQ(a[i], ar[i]);
      // silu_mul
      Misaligned g(random_floats(rng, n, 3.0f));
      Misaligned gr = g;
      silu_mul(fast, g.data(), x.data(), n);
      ref::silu_mul(ref, gr.data(), x.data(), n);
      for (int64_t i = 0; i < n; ++i) ASSERT_NEAR(g[i], gr[i], 1e-6 * (1 + std::fabs(gr[i])));
      // gelu_mul (float against double)
      Misaligned ge(random_floats(rng, n, 6.0f));
      Misaligned ger = ge;
      gelu_mul(fast, ge.data(), x.data(), n);
      ref::gelu_mul(ref, ger.data(), x.data(), n);
      for (int64_t i = 0; i < n; ++i) ASSERT_NEAR(ge[i], ger[i], 2e-6 * (1 + std::fabs(ger[i])));
      // log_softmax
      std::vector<double> ls(n), lsr(n);
      log_softmax(fast, ls.data(), x.data(), n);
      ref::log_softmax(ref, lsr.data(), x.data(), n);
      for (int64_t i = 0; i < n; ++i) ASSERT_NEAR(ls[i], lsr[i], 1e-12);
      EXPECT_EQ(fast.counters, ref.counters);
    }
  }
}

TEST(SiluMul, EveryIsaMatchesReference) {
  std::mt19937 rng(23);
  for (simd::Isa isa : {simd::Isa::Generic, simd::Isa::Avx2, simd::Isa::Avx512}) {
    if (!simd::isa_supported(isa)) continue;
    for (int64_t n : {1, 3, 7, 15, 16, 17, 31, 33, 100, 257, 40000}) {
      Misaligned g(random_floats(rng, n, 6.0f));
      g[0] = 100.0f;  // saturating ends of the exp
      if (n > 1) g[1] = -100.0f;
      Misaligned gr = g;
      const Misaligned u(random_floats(rng, n));
      ExecContext fast(2), ref(1);
      simd::silu_mul_with(simd::kernels_for(isa), fast, g.data(), u.data(), n);
      ref::silu_mul(ref, gr.data(), u.data(), n);
      for (int64_t i = 0; i < n; ++i)
        ASSERT_NEAR(g[i], gr[i], 1e-6 * (1 + std::fabs(gr[i]))) << simd::kernels_for(isa).name << " " << i;
      EXPECT_EQ(fast.counters, ref.counters);
    }
  }
}

// The vectorised GeGLU (gelu as g / (1 + e^-2u), exp_v) of each ISA against the reference's tanh
// form, over tails of every length and saturating inputs; and position independence: an element
// computed alone (n = 1, the padded tail) is bit-identical to the same element inside a row.
TEST(GeluMul, EveryIsaMatchesReferenceWherever) {
  std::mt19937 rng(31);
  for (simd::Isa isa : {simd::Isa::Generic, simd::Isa::Avx2, simd::Isa::Avx512}) {
    if (!simd::isa_supported(isa)) continue;
    const simd::Kernels& k = simd::kernels_for(isa);
    for (int64_t n : {1, 3, 7, 15, 16, 17, 31, 33, 100, 257, 40000}) {
      Misaligned g(random_floats(rng, n, 6.0f));
      g[0] = 100.0f;  // the identity
      if (n > 1) g[1] = -100.0f;  // zero
      if (n > 2) g[2] = 0.0f;
      Misaligned gr = g;
      Misaligned g0 = g;
      Misaligned u(random_floats(rng, n));
      ExecContext fast(2), ref(1);
      simd::gelu_mul_with(k, fast, g.data(), u.data(), n);
      ref::gelu_mul(ref, gr.data(), u.data(), n);
      for (int64_t i = 0; i < n; ++i)
        ASSERT_NEAR(g[i], gr[i], 2e-6 * (1 + std::fabs(gr[i]))) << k.name << " n=" << n << " i=" << i;
      EXPECT_EQ(fast.counters, ref.counters);
      for (int64_t i = 0; i < std::min<int64_t>(n, 40); ++i) {
        float alone = g0[i];
        k.gelu_mul(&alone, &u[i], 1);
        ASSERT_EQ(alone, g[i]) << k.name << ": element " << i << " of " << n << " alone";
      }
    }
  }
}

// The ViT's ungated tanh GELU (the vectorised GeGLU with a gate of ones) against the definition in
// double, below and above one pool chunk, and counted as kGelu.
TEST(Gelu, TanhMatchesTheDefinition) {
  std::mt19937 rng(37);
  for (int64_t n : {1, 5, 16, 17, 1000, 40000}) {
    std::vector<float> y = random_floats(rng, n, 8.0f);
    const std::vector<float> x = y;
    ExecContext ctx(2);
    gelu(ctx, y.data(), n, GeluKind::Tanh);
    for (int64_t i = 0; i < n; ++i) {
      const double v = x[i];
      const double want = 0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / 3.14159265358979323846) * (v + 0.044715 * v * v * v)));
      ASSERT_NEAR(y[i], want, 2e-6 * (1 + std::fabs(want))) << "n=" << n << " x=" << x[i];
    }
    EXPECT_EQ(ctx.counters.flops[0][int(OpClass::Other)], static_cast<uint64_t>(n) * flop_cost::kGelu);
  }
}

// Each ISA's own RMSNorm row (float squares, double sum, one float scale) against the float64
// reference, over tails of every length, a 4096-wide row and large / tiny magnitudes.
TEST(RmsNorm, EveryIsaMatchesReference) {
  std::mt19937 rng(29);
  for (simd::Isa isa : {simd::Isa::Generic, simd::Isa::Avx2, simd::Isa::Avx512}) {
    if (!simd::isa_supported(isa)) continue;
    for (int64_t n : {1, 3, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 257, 4096, 4099}) {
      for (float magnitude : {1.0f, 1e-3f, 300.0f}) {
        const Misaligned x(random_floats(rng, n, magnitude)), w(random_floats(rng, n));
        Misaligned y(n), yr(n);
        ExecContext ref(1);
        simd::kernels_for(isa).rmsnorm_row(y.data(), x.data(), w.data(), n, 1e-6f);
        ref::rmsnorm(ref, yr.data(), x.data(), w.data(), 1, n, 1e-6f);
        for (int64_t i = 0; i < n; ++i)
          ASSERT_NEAR(y[i], yr[i], 2e-6 * (1 + std::fabs(yr[i]))) << simd::kernels_for(isa).name << " n=" << n << " i=" << i;
      }
    }
  }
}

TEST(Rope, FastMatchesReferenceBothStyles) {
  std::mt19937 rng(13);
  for (RopeStyle style : {RopeStyle::Normal, RopeStyle::NeoX}) {
    for (int64_t hd : {2, 8, 64, 80, 128}) {
      for (int64_t n_rot : {hd, hd / 2 - (hd / 2) % 2}) {
        const int64_t T = 4, H = 3;
        const std::vector<int32_t> pos = {0, 1, 17, 4095};
        Misaligned x(random_floats(rng, T * H * hd));
        Misaligned xr = x;
        ExecContext fast(2), ref(1);
        rope(fast, x.data(), T, H, hd, n_rot, pos.data(), 1e6f, style);
        ref::rope(ref, xr.data(), T, H, hd, n_rot, pos.data(), 1e6f, style);
        for (int64_t i = 0; i < T * H * hd; ++i) ASSERT_NEAR(x[i], xr[i], 1e-6) << hd << " " << i;
        EXPECT_EQ(fast.counters, ref.counters);
      }
    }
  }
}

TEST(Embed, EveryTypeMatchesDequantizedRows) {
  std::mt19937 rng(17);
  for (DType type : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_K,
                     DType::Q6_K}) {
    const int64_t C = dtype_info(type).block_elems == 256 ? 512 : 96;
    const auto table = testing::make_weight(rng, type, C, 10, /*offset=*/1);
    const std::vector<int32_t> ids = {3, 0, 9, 3};
    Misaligned y(4 * C), yr(4 * C);
    ExecContext fast(2), ref(1);
    embed(fast, y.data(), table.view, ids.data(), 4);
    ref::embed(ref, yr.data(), table.view, ids.data(), 4);
    for (int64_t i = 0; i < 4 * C; ++i) ASSERT_EQ(y[i], yr[i]) << dtype_name(type) << " " << i;
    EXPECT_EQ(fast.counters, ref.counters);
    EXPECT_EQ(fast.counters.weight_bytes[0][dtype_info(type).slot],
              4u * static_cast<uint64_t>(dtype_row_bytes(type, C)));
    EXPECT_EQ(fast.counters.total_flops(), 0u);
    const int32_t bad = 10;
    EXPECT_THROW(embed(fast, y.data(), table.view, &bad, 1), Error);
  }
}

}  // namespace
}  // namespace tenx
