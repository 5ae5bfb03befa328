// qwen3moe, the mixture of experts (#14): the decoder against the float64 oracle, prefill
// grouped by expert against token-by-token decode, the routing kernels against their scalar
// references, counted == analytic for the routing a forward recorded, the parameter counts, and
// the loader's refusals.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "naive_forward.hpp"
#include "decoder_checks.hpp"
#include "tenx/model/analytic.hpp"
#include "tenx/model/arch.hpp"
#include "tenx/model/decoder.hpp"
#include "tenx/model/model_init.hpp"
#include "tenx/ops/reference.hpp"
#include "tenx/util/error.hpp"

namespace tenx {
namespace {

ModelInitSpec moe_spec(DType type = DType::F32, int64_t dim = 64, int64_t ffn_exp = 32) {
  ModelInitSpec s;
  s.arch = "qwen3moe";
  s.n_embd = dim, s.n_layer = 2, s.n_head = 4, s.n_head_kv = 2, s.n_ff = 96, s.n_vocab = 300;
  s.head_dim = 24, s.seed = 5, s.type = type;
  s.n_expert = 8, s.n_expert_used = 3, s.n_ff_exp = ffn_exp;
  return s;
}

Model moe_model(const ModelInitSpec& s) { return Model::from_file(make_random_model(s)); }

std::vector<int32_t> ids_of(int n, int64_t vocab) {
  std::vector<int32_t> ids;
  for (int i = 0; i < n; ++i) ids.push_back(static_cast<int32_t>((i * 37 + 11) % vocab));
  return ids;
}

using test::max_abs_diff;  // against the oracle (decoder_checks.hpp)

TEST(Moe, DescriptionFromTheFile) {
  const Model m = moe_model(moe_spec());
  const ModelConfig& c = m.config;
  EXPECT_EQ(c.arch, "qwen3moe");
  EXPECT_EQ(c.n_expert, 8);
  EXPECT_EQ(c.n_expert_used, 3);
  EXPECT_EQ(c.n_ff_exp, 32);
  EXPECT_TRUE(c.layer(1).moe);
  EXPECT_TRUE(c.layer(1).qk_norm);
  EXPECT_EQ(c.layer(0).rope_style, RopeStyle::NeoX);
  EXPECT_EQ(find_hf_family("qwen3_moe", ""), find_family("qwen3moe"));
  ASSERT_EQ(m.layers[0].gate_exps.size(), 8u);
  EXPECT_EQ(m.layers[0].down_exps[7].ne[0], 32);
  EXPECT_EQ(m.layers[0].down_exps[7].ne[1], 64);
  // Parameters: total, and the active ones per token (3 of 8 experts).
  const int64_t expert = 3 * 64 * 32;
  EXPECT_EQ(m.n_params() - m.n_active_params(), 2 * 5 * expert);
  const ModelSpec spec = ModelSpec::of(m);
  EXPECT_EQ(spec.n_params(), m.n_params());
  EXPECT_EQ(spec.n_active_params(), m.n_active_params());
  EXPECT_EQ(spec.weight_bytes(), m.weight_bytes());
}

TEST(Moe, MatchesFloat64OracleOnEveryPosition) {
  for (const auto& [type, tol] : {std::pair{DType::F32, 1e-4}, {DType::F16, 1e-2}, {DType::Q8_0, 0.1}}) {
    SCOPED_TRACE(dtype_name(type));
    const Model m = moe_model(moe_spec(type));
    const auto ids = ids_of(13, m.config.n_vocab);
    ExecContext ctx(2);
    Decoder dec(m, 32);
    const auto logits = dec.eval(ctx, ids, 0, true);
    EXPECT_LT(max_abs_diff(logits, test::naive_logits(m, ids)), tol);
  }
  // K-quants: rows of 256.
  const Model m = moe_model(moe_spec(DType::Q4_K, 256, 256));
  const auto ids = ids_of(7, m.config.n_vocab);
  ExecContext ctx(2);
  Decoder dec(m, 32);
  EXPECT_LT(max_abs_diff(dec.eval(ctx, ids, 0, true), test::naive_logits(m, ids)), 0.3);
}

// Prefill groups a batch's tokens by expert; decode runs one token's k experts. Both give the
// same logits, and every token of a batch runs exactly k distinct experts.
TEST(Moe, GroupedPrefillAndTokenByTokenDecodeAgree) {
  const Model m = moe_model(moe_spec());
  const auto ids = ids_of(12, m.config.n_vocab);
  const int64_t V = m.config.n_vocab, K = m.config.n_expert_used;
  ExecContext ctx(2);
  Decoder whole(m, 16, 1, 64);
  const auto a = whole.eval(ctx, ids, 0, true);
  const std::vector<float> all(a.begin(), a.end());
  for (int64_t l = 0; l < m.config.n_layer; ++l) {
    const auto r = whole.routing(l);
    ASSERT_EQ(r.size(), ids.size() * static_cast<size_t>(K));
    for (size_t t = 0; t < ids.size(); ++t)
      EXPECT_TRUE(r[t * K] != r[t * K + 1] && r[t * K] != r[t * K + 2] && r[t * K + 1] != r[t * K + 2]);
  }
  Decoder step(m, 16, 1, 1);
  double worst = 0;
  for (size_t t = 0; t < ids.size(); ++t) {
    const auto b = step.eval(ctx, std::span<const int32_t>(&ids[t], 1), 0, false);
    for (int64_t v = 0; v < V; ++v) worst = std::max(worst, std::abs(double(b[v]) - all[t * V + v]));
  }
  EXPECT_LT(worst, 1e-4);
}

TEST(Moe, RoutingKernelsMatchTheirReferences) {
  std::mt19937 rng(3);
  std::normal_distribution<float> n(0.0f, 2.0f);
  for (const auto& [T, E, K] : {std::tuple{1, 8, 2}, {7, 16, 4}, {5, 4, 4}, {3, 128, 8}, {2, 1, 1}}) {
    std::vector<float> logits(static_cast<size_t>(T * E));
    for (float& x : logits) x = n(rng);
    if (E >= 4) logits[1] = logits[2];  // a tie: the lower expert first in both
    std::vector<int32_t> fe(static_cast<size_t>(T * K)), re(fe.size());
    std::vector<float> fw(fe.size()), rw(fe.size());
    ExecContext a(1), b(1);
    moe_route(a, fe.data(), fw.data(), logits.data(), T, E, K);
    ref::moe_route(b, re.data(), rw.data(), logits.data(), T, E, K);
    EXPECT_EQ(fe, re);
    for (size_t i = 0; i < fw.size(); ++i) EXPECT_NEAR(fw[i], rw[i], 1e-6);
    for (int t = 0; t < T; ++t) {
      double sum = 0;
      for (int j = 0; j < K; ++j) sum += fw[static_cast<size_t>(t * K + j)];
      EXPECT_NEAR(sum, 1.0, 1e-6);
      for (int j = 1; j < K; ++j) EXPECT_GE(fw[static_cast<size_t>(t * K + j - 1)], fw[static_cast<size_t>(t * K + j)]);
    }
    EXPECT_EQ(a.counters, b.counters);
    EXPECT_EQ(a.counters.total_flops(), static_cast<uint64_t>(3 * T * E + 2 * T * K));
  }
  std::vector<float> y(37), y2, x(37);
  for (size_t i = 0; i < y.size(); ++i) y[i] = n(rng), x[i] = n(rng);
  y2 = y;
  ExecContext a(1), b(1);
  add_scaled(a, y.data(), x.data(), 0.3f, 37);
  ref::add_scaled(b, y2.data(), x.data(), 0.3f, 37);
  for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], y2[i], 1e-6);
  EXPECT_EQ(a.counters, b.counters);
  EXPECT_THROW(moe_route(a, nullptr, nullptr, x.data(), 1, 4, 5), Error);
}

// FLOPs are the chosen experts' (k per token, whatever the routing); the expert bytes are those of
// the experts the forward ran, which the recorded routing gives exactly. Decode: always k.
TEST(Moe, CountedEqualsAnalyticForTheRecordedRouting) {
  for (DType type : {DType::F32, DType::Q8_0, DType::Q4_0}) {
    SCOPED_TRACE(dtype_name(type));
    const Model m = moe_model(moe_spec(type));
    const ModelSpec spec = ModelSpec::of(m);
    EXPECT_EQ(spec.layers[0].router, DType::F32);  // the router stays F32 in every type
    EXPECT_EQ(spec.layers[0].w_up, type);
    const auto ids = ids_of(9, m.config.n_vocab);
    ExecContext ctx(2);
    Decoder dec(m, 32);
    ctx.phase = Phase::Prefill;
    Counters before = ctx.counters;
    dec.eval(ctx, ids, 0, false);
    const std::vector<int64_t> run = dec.experts_run();
    ASSERT_EQ(run.size(), 2u);
    for (int64_t r : run) {
      EXPECT_GE(r, 3);
      EXPECT_LE(r, 8);
    }
    std::vector<int64_t> pos;
    for (int64_t p = 0; p < 9; ++p) pos.push_back(p);
    test::expect_same_counters(ctx.counters - before, analytic_forward(spec, pos, 1, Phase::Prefill, 0, run));
    // Without the routing: the same FLOPs; the bytes are the expectation's.
    const Counters expected = analytic_forward(spec, pos, 1, Phase::Prefill);
    EXPECT_EQ(expected.total_flops(), (ctx.counters - before).total_flops());
    ctx.phase = Phase::Decode;
    for (int step = 0; step < 3; ++step) {
      before = ctx.counters;
      const int32_t id = ids[static_cast<size_t>(step)];
      dec.eval(ctx, std::span<const int32_t>(&id, 1), 0, false);
      const int64_t p = 9 + step;
      test::expect_same_counters(ctx.counters - before, analytic_forward(spec, std::span<const int64_t>(&p, 1), 1, Phase::Decode));
      for (int64_t r : dec.experts_run()) EXPECT_EQ(r, 3);
    }
  }
}

std::string load_error(const std::function<void(ModelFile&)>& edit) {
  try {
    ModelFile f = make_random_model(moe_spec());
    edit(f);
    Model::from_file(std::move(f));
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Moe, WhatTheDescriptionDoesNotCoverIsAnError) {
  std::string e = load_error([](ModelFile& f) { f.meta.set("qwen3moe.expert_shared_count", GgufValue::u32(1)); });
  EXPECT_NE(e.find("qwen3moe.expert_shared_count"), std::string::npos) << e;
  e = load_error([](ModelFile& f) { f.meta.set("qwen3moe.expert_weights_scale", GgufValue::f32(2.5f)); });
  EXPECT_NE(e.find("qwen3moe.expert_weights_scale"), std::string::npos) << e;
  e = load_error([](ModelFile& f) { f.meta.set("qwen3moe.expert_used_count", GgufValue::u32(9)); });
  EXPECT_NE(e.find("expert_used_count 9"), std::string::npos) << e;
  e = load_error([](ModelFile& f) { f.meta.erase("qwen3moe.expert_count"); });
  EXPECT_NE(e.find("qwen3moe.expert_count"), std::string::npos) << e;
  e = load_error([](ModelFile& f) {
    std::erase_if(f.tensors, [](const TensorView& t) { return t.name == "blk.1.ffn_up_exps.weight"; });
  });
  EXPECT_NE(e.find("missing tensor 'blk.1.ffn_up_exps.weight'"), std::string::npos) << e;
  e = load_error([](ModelFile& f) { f.meta.set("qwen3moe.expert_feed_forward_length", GgufValue::u32(16)); });
  EXPECT_NE(e.find("ffn_gate_exps.weight' has shape [64, 32, 8], expected [64, 16, 8]"), std::string::npos) << e;
  e = load_error([](ModelFile& f) {  // a dense FFN beside the experts: llama.cpp's qwen3moe has none
    TensorView extra = *f.find("blk.0.ffn_gate_inp.weight");
    extra.name = "blk.0.ffn_gate.weight";
    f.tensors.push_back(extra);
  });
  EXPECT_NE(e.find("'blk.0.ffn_gate.weight' is not used"), std::string::npos) << e;
  // Without expert_feed_forward_length the width is feed_forward_length / expert_used_count.
  EXPECT_EQ(load_error([](ModelFile& f) {
              f.meta.erase("qwen3moe.expert_feed_forward_length");
              f.meta.set("qwen3moe.feed_forward_length", GgufValue::u32(96));
            }),
            "(no error)");
  // model init refuses experts for a dense family and a MoE without them.
  ModelInitSpec s = moe_spec();
  s.n_expert_used = 9;
  EXPECT_THROW(make_random_model(s), Error);
  s = moe_spec();
  s.arch = "qwen3";
  EXPECT_THROW(make_random_model(s), Error);
}

}  // namespace
}  // namespace tenx
