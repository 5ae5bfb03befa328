// The decoder against an independent double-precision oracle (naive_forward.hpp),
// and its batching, multi-sequence and prefix-sharing paths against each other.
#include <gtest/gtest.h>

#include <cmath>

#include "naive_forward.hpp"
#include "decoder_checks.hpp"
#include "tenx/model/decoder.hpp"
#include "tenx/util/error.hpp"
#include "test_models.hpp"

namespace tenx {
namespace {

std::vector<int32_t> some_ids(int n, int vocab, int salt = 0) {
  std::vector<int32_t> ids;
  for (int i = 0; i < n; ++i) ids.push_back(static_cast<int32_t>((i * 37 + 11 + salt * 13) % vocab));
  return ids;
}

using test::max_abs_diff;  // against the oracle (decoder_checks.hpp)

double max_abs_diff(std::span<const float> a, std::span<const float> b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(static_cast<double>(a[i]) - b[i]));
  return m;
}

struct Case {
  const char* name;
  test::TinySpec spec;
  double tol;  // max |Δ logit| against the float64 oracle
};

std::vector<Case> cases() {
  std::vector<Case> c;
  test::TinySpec s;
  c.push_back({"llama_gqa_f32", s, 1e-4});
  s.kv_heads = 4;
  c.push_back({"llama_mha_f32", s, 1e-4});
  s = {};
  s.tied = true;
  c.push_back({"llama_tied_f32", s, 1e-4});
  s = {};
  s.arch = "qwen2";
  s.rope_base = 1e6f;
  c.push_back({"qwen2_bias_f32", s, 1e-4});
  s = {};
  s.arch = "qwen3";  // q/k RMS norms per head; head size 24 != 64 / 4 (attention.key_length)
  s.head_dim = 24;
  c.push_back({"qwen3_qknorm_f32", s, 1e-4});
  s = {};
  // Llama 3.1 rope scaling with an original context of 8, so that positions 0..12 span the
  // smoothed, scaled and unscaled pairs.
  s.rope_freqs = llama3_rope_factors(16, 10000.0f, 8.0, 1.0, 4.0, 8.0);
  c.push_back({"llama_rope_freqs_f32", s, 1e-4});
  s = {};
  s.rope_linear_factor = 4.0f;
  c.push_back({"llama_rope_linear_f32", s, 1e-4});
  s = {};
  s.matrices = DType::F16;
  c.push_back({"llama_f16", s, 1e-4});
  s.matrices = DType::BF16;
  c.push_back({"llama_bf16", s, 1e-4});
  // Quantized weights against int8-quantized activations (the integer kernels, as
  // llama.cpp): the oracle uses the dequantized weights but exact activations, so the
  // bound is the activations' 8-bit rounding through two layers (measured 0.094 and
  // 0.103; ops/matmul_q8_test.cpp bounds it per matmul, the peer test matches llama.cpp to 1e-6).
  s.matrices = DType::Q8_0;
  c.push_back({"llama_q8_0", s, 0.2});
  s.matrices = DType::Q4_0;
  c.push_back({"llama_q4_0", s, 0.2});
  s.arch = "qwen3";
  s.head_dim = 24;
  s.matrices = DType::Q8_0;
  c.push_back({"qwen3_q8_0", s, 0.2});
  // gemma3: 13 positions through a window of 4 on layers 0 and 2 (period 2: layer 1 global,
  // with the linear rope scaling the local layers do not get); sandwich norms, GeGLU,
  // embedding scale, q/k norms.
  s = {};
  s.arch = "gemma3";
  s.layers = 3;
  s.head_dim = 24;
  s.window = 4;
  s.swa_period = 2;
  s.rope_linear_factor = 4.0f;
  c.push_back({"gemma3_swa_f32", s, 1e-4});
  s.tied = true;
  s.window = 0;  // no sliding_window key: every layer global
  c.push_back({"gemma3_global_tied_f32", s, 1e-4});
  s.tied = false;
  s.window = 4;
  s.matrices = DType::Q8_0;
  c.push_back({"gemma3_swa_q8_0", s, 0.2});
  // muse-glimmer: window 4 over 13 positions on layers 0 and 2 (a bool per layer, as its
  // converter writes the pattern; layer 1 global and NoPE), embedding RMS norm, sigmoid output
  // gate, post norms with eps 1e-8, logit scale 0.7 and a soft-cap of 3 (logits of O(1): tanh bends).
  s = {};
  s.arch = "muse-glimmer";
  s.layers = 3;
  s.head_dim = 24;
  s.window = 4;
  s.swa_layers = {true, false, true};
  s.logit_scale = 0.7f;
  s.softcap = 3.0f;
  c.push_back({"muse_swa_array_f32", s, 1e-4});
  s.swa_layers = {};
  s.swa_period = 2;  // a period instead: layers 0 and 2 local again
  s.softcap = 0.0f;
  c.push_back({"muse_swa_period_f32", s, 1e-4});
  s.swa_period = 0;  // no pattern key: every layer global and NoPE
  c.push_back({"muse_all_global_f32", s, 1e-4});
  s.swa_layers = {true, false, true};
  s.softcap = 3.0f;
  s.matrices = DType::Q8_0;
  c.push_back({"muse_swa_q8_0", s, 0.2});
  // gemma2: window 4 over 13 positions on layers 0 and 2 (period 2), linear rope scaling on
  // every layer, attention scores capped at 1.5 and logits at 3 (both bend O(1) values), tied.
  s = {};
  s.arch = "gemma2";
  s.layers = 3;
  s.head_dim = 24;
  s.tied = true;
  s.window = 4;
  s.swa_period = 2;
  s.rope_linear_factor = 4.0f;
  s.attn_softcap = 1.5f;
  s.softcap = 3.0f;
  c.push_back({"gemma2_swa_caps_f32", s, 1e-4});
  s.window = 0, s.swa_period = 0, s.attn_softcap = 0.0f, s.softcap = 0.0f;  // llama.cpp's defaults: 4096, 2, 50, 30
  c.push_back({"gemma2_defaults_f32", s, 1e-4});
  s.window = 4, s.swa_period = 2, s.attn_softcap = 1.5f, s.softcap = 3.0f;
  s.matrices = DType::Q8_0;
  c.push_back({"gemma2_swa_caps_q8_0", s, 0.2});
  return c;
}

TEST(Decoder, MatchesFloat64OracleOnEveryPosition) {
  for (const Case& k : cases()) {
    SCOPED_TRACE(k.name);
    Model m = test::make_tiny_model(k.spec);
    const auto ids = some_ids(13, static_cast<int>(m.config.n_vocab));
    ExecContext ctx(2);
    Decoder dec(m, 32);
    auto logits = dec.eval(ctx, ids, 0, true);
    ASSERT_EQ(logits.size(), ids.size() * static_cast<size_t>(m.config.n_vocab));
    const auto ref = test::naive_logits(m, ids);
    EXPECT_LT(max_abs_diff(logits, ref), k.tol);
  }
}

// gemma3, muse-glimmer and gemma2 with a window of 4 over 11 positions: once the window is full every query of a local
// layer has its own first key, so prefill chunks, batches of 3 and single-token decode each
// take the windowed keys from a different place in the cache.
TEST(Decoder, ChunkedPrefillAndTokenByTokenDecodeAgree) {
  for (const test::TinySpec& spec :
       {test::TinySpec{}, test::TinySpec{.arch = "gemma3", .layers = 3, .window = 4, .swa_period = 2},
        test::TinySpec{.arch = "muse-glimmer", .layers = 3, .window = 4, .swa_layers = {true, false, true},
                       .logit_scale = 0.7f, .softcap = 3.0f},
        test::TinySpec{.arch = "gemma2", .layers = 3, .tied = true, .window = 4, .swa_period = 2, .softcap = 3.0f,
                       .attn_softcap = 1.5f}}) {
    SCOPED_TRACE(spec.arch);
    Model m = test::make_tiny_model(spec);
    const auto ids = some_ids(11, static_cast<int>(m.config.n_vocab));
    const int64_t V = m.config.n_vocab;
    ExecContext ctx(2);
    Decoder whole(m, 16, 1, 64);
    auto a = whole.eval(ctx, ids, 0, true);
    std::vector<float> all(a.begin(), a.end());
    Decoder chunked(m, 16, 1, 3);
    auto b = chunked.eval(ctx, ids, 0, true);
    EXPECT_LT(max_abs_diff(all, b), 1e-5);
    Decoder stepwise(m, 16, 1, 1);
    for (size_t t = 0; t < ids.size(); ++t) {
      BatchToken tok{ids[t], static_cast<int32_t>(t), 0, true};
      auto row = stepwise.forward(ctx, std::span<const BatchToken>(&tok, 1));
      EXPECT_LT(max_abs_diff(row, std::span<const float>(all).subspan(t * V, V)), 1e-5) << "position " << t;
    }
  }
}

TEST(Decoder, IndependentSequencesInOneBatch) {
  Model m = test::make_tiny_model({});
  const int64_t V = m.config.n_vocab;
  const auto a = some_ids(7, static_cast<int>(V), 1), b = some_ids(5, static_cast<int>(V), 2);
  ExecContext ctx(2);
  Decoder alone(m, 16, 1);
  auto la = alone.eval(ctx, a, 0, true);
  std::vector<float> ref_a(la.begin(), la.end());
  alone.truncate(0, 0);
  auto lb = alone.eval(ctx, b, 0, true);
  std::vector<float> ref_b(lb.begin(), lb.end());

  // Interleave both sequences in one batch (seq 1 first for the shorter one).
  Decoder both(m, 16, 2);
  std::vector<BatchToken> batch;
  for (size_t i = 0; i < 7; ++i) {
    if (i < 5) batch.push_back({b[i], static_cast<int32_t>(i), 1, true});
    batch.push_back({a[i], static_cast<int32_t>(i), 0, true});
  }
  auto out = both.forward(ctx, batch);
  size_t row = 0;
  for (size_t i = 0; i < 7; ++i) {
    if (i < 5) {
      EXPECT_LT(max_abs_diff(out.subspan(row * V, V), std::span<const float>(ref_b).subspan(i * V, V)), 1e-5);
      ++row;
    }
    EXPECT_LT(max_abs_diff(out.subspan(row * V, V), std::span<const float>(ref_a).subspan(i * V, V)), 1e-5);
    ++row;
  }
  EXPECT_EQ(both.seq_len(0), 7);
  EXPECT_EQ(both.seq_len(1), 5);
}

TEST(Decoder, SharedPrefixContinuesLikeAFullRun) {
  Model m = test::make_tiny_model({.arch = "qwen2"});
  const int64_t V = m.config.n_vocab;
  const auto ctx_ids = some_ids(6, static_cast<int>(V), 3);
  const std::vector<int32_t> cont1 = {5, 9, 2}, cont2 = {7, 1};
  ExecContext ctx(1);
  Decoder dec(m, 16, 2);
  dec.eval(ctx, ctx_ids, 0);
  for (const auto& cont : {cont1, cont2}) {
    dec.copy_prefix(0, 1, 6);
    auto got = dec.eval(ctx, cont, 1, true);
    std::vector<float> g(got.begin(), got.end());
    std::vector<int32_t> full = ctx_ids;
    full.insert(full.end(), cont.begin(), cont.end());
    const auto ref = test::naive_logits(m, full);
    std::vector<double> tail(ref.begin() + 6 * V, ref.end());
    EXPECT_LT(max_abs_diff(g, tail), 1e-4);
  }
  dec.truncate(0, 2);
  EXPECT_EQ(dec.seq_len(0), 2);
}

TEST(Decoder, RejectsInvalidBatches) {
  Model m = test::make_tiny_model({});
  ExecContext ctx(1);
  Decoder dec(m, 4, 1, 8);
  BatchToken wrong_pos{1, 3, 0, true};
  EXPECT_THROW(dec.forward(ctx, std::span<const BatchToken>(&wrong_pos, 1)), Error);
  BatchToken bad_id{static_cast<int32_t>(m.config.n_vocab), 0, 0, true};
  EXPECT_THROW(dec.forward(ctx, std::span<const BatchToken>(&bad_id, 1)), Error);
  BatchToken bad_seq{1, 0, 1, true};
  EXPECT_THROW(dec.forward(ctx, std::span<const BatchToken>(&bad_seq, 1)), Error);
  EXPECT_EQ(dec.seq_len(0), 0);  // nothing was appended by a rejected batch
  const std::vector<int32_t> four = {1, 2, 3, 4};
  dec.eval(ctx, four);
  BatchToken overflow{1, 4, 0, true};
  EXPECT_THROW(dec.forward(ctx, std::span<const BatchToken>(&overflow, 1)), Error);
}

TEST(Decoder, ReportsMemory) {
  Model m = test::make_tiny_model({});
  Decoder dec(m, 20, 2, 8);
  const uint64_t per_pos = static_cast<uint64_t>(m.config.n_layer * 2 * m.config.kv_dim()) * sizeof(float);
  EXPECT_EQ(dec.kv_bytes_allocated(), 2 * 20 * per_pos);
  ExecContext ctx(1);
  const std::vector<int32_t> ids = {1, 2, 3};
  dec.eval(ctx, ids, 1);
  EXPECT_EQ(dec.kv_bytes_used(), 3 * per_pos);
  dec.truncate(1, 1);
  EXPECT_EQ(dec.kv_bytes_used(), per_pos);
  EXPECT_EQ(dec.kv_bytes_peak(), 3 * per_pos);
  EXPECT_GE(dec.working_bytes(), Decoder::working_bytes_for(m.config, 8));
}

}  // namespace
}  // namespace tenx
