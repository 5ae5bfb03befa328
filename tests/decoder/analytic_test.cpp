// Counted == analytic, exactly: the FLOPs and bytes the kernels add up while the
// decoder runs equal what the analytic model derives from the configuration and
// storage types alone, for several architectures, both phases, batches that mix
// sequences, and the scoring path.
#include <gtest/gtest.h>

#include "tenx/model/analytic.hpp"
#include "tenx/model/decoder.hpp"
#include "tenx/model/generation.hpp"
#include "test_models.hpp"
#include "decoder_checks.hpp"

namespace tenx {
namespace {

std::vector<test::TinySpec> specs() {
  std::vector<test::TinySpec> v;
  v.push_back({});                                       // llama, GQA 4/2, untied
  v.push_back({.kv_heads = 1, .tied = true});            // multi-query, tied output
  v.push_back({.arch = "qwen2", .heads = 8});        // qwen2 with biases, head size 8
  v.push_back({.dim = 96, .layers = 3, .heads = 3, .kv_heads = 3, .ff = 64, .vocab = 130,
               .matrices = DType::Q8_0});
  v.push_back({.arch = "qwen2", .matrices = DType::Q4_0});
  v.push_back({.tied = true, .matrices = DType::F16});
  v.push_back({.arch = "qwen3", .head_dim = 24});        // q/k norms, head size 24 != 64 / 4
  v.push_back({.arch = "qwen3", .head_dim = 24, .matrices = DType::Q8_0});
  // gemma3: window 4 < the 9-token prompt on layers 0 and 2 (layer 1 global): attention
  // counts min(pos + 1, 4) keys there; sandwich norms, GeGLU, embedding scale.
  v.push_back({.arch = "gemma3", .layers = 3, .head_dim = 24, .window = 4, .swa_period = 2});
  v.push_back({.arch = "gemma3", .layers = 3, .head_dim = 24, .matrices = DType::Q8_0, .window = 4, .swa_period = 2});
  // muse-glimmer: layers 0 and 2 local with RoPE, layer 1 global without; the gate's matmul and
  // sigmoid, the embedding norm, post norms, logit scale and soft-cap.
  v.push_back({.arch = "muse-glimmer", .layers = 3, .head_dim = 24, .window = 4, .swa_layers = {true, false, true},
               .logit_scale = 0.7f, .softcap = 3.0f});
  v.push_back({.arch = "muse-glimmer", .layers = 3, .head_dim = 24, .matrices = DType::Q8_0, .window = 4,
               .swa_period = 2, .logit_scale = 0.7f});
  // gemma2: the attention soft-cap per score (3 FLOPs), the final one per logit, tied output.
  v.push_back({.arch = "gemma2", .layers = 3, .head_dim = 24, .tied = true, .window = 4, .swa_period = 2,
               .softcap = 3.0f, .attn_softcap = 1.5f});
  v.push_back({.arch = "gemma2", .layers = 3, .tied = true, .matrices = DType::Q8_0, .window = 4, .swa_period = 2});
  test::TinySpec rf;                                     // llama with a rope_freqs tensor
  rf.rope_freqs = llama3_rope_factors(16, 10000.0f, 8.0, 1.0, 4.0, 8.0);
  v.push_back(rf);
  return v;
}

TEST(Analytic, PrefillDecodeAndMixedBatchesMatchCounters) {
  for (const auto& s : specs()) {
    Model m = test::make_tiny_model(s);
    SCOPED_TRACE(::testing::Message() << arch_name(m.config.arch) << " d" << m.config.n_embd << " kv"
                                      << m.config.n_head_kv << " " << dtype_name(s.matrices)
                                      << (m.config.tied_output ? " tied" : ""));
    const ModelSpec spec = ModelSpec::of(m);
    ExecContext ctx(2);
    Decoder dec(m, 64, 2, 16);

    // Prefill of 9 tokens, logits of the last only.
    ctx.phase = Phase::Prefill;
    std::vector<int32_t> prompt = {3, 1, 4, 1, 5, 9, 2, 6, 5};
    Counters before = ctx.counters;
    dec.eval(ctx, prompt, 0);
    std::vector<int64_t> pos;
    for (int64_t i = 0; i < 9; ++i) pos.push_back(i);
    test::expect_same_counters(ctx.counters - before, analytic_forward(spec, pos, 1, Phase::Prefill));

    // Three decode steps at positions 9, 10, 11.
    ctx.phase = Phase::Decode;
    for (int32_t p = 9; p < 12; ++p) {
      before = ctx.counters;
      BatchToken t{7, p, 0, true};
      dec.forward(ctx, std::span<const BatchToken>(&t, 1));
      const int64_t at = p;
      test::expect_same_counters(ctx.counters - before, analytic_forward(spec, std::span<const int64_t>(&at, 1), 1, Phase::Decode));
    }

    // A batch mixing both sequences, logits for three of its tokens.
    ctx.phase = Phase::Prefill;
    before = ctx.counters;
    std::vector<BatchToken> batch = {{1, 12, 0, false}, {2, 0, 1, true}, {3, 1, 1, false},
                                     {4, 13, 0, true},  {5, 2, 1, true}};
    dec.forward(ctx, batch);
    const std::vector<int64_t> mixed = {12, 0, 1, 13, 2};
    test::expect_same_counters(ctx.counters - before, analytic_forward(spec, mixed, 3, Phase::Prefill));

    // A prompt longer than max_batch (16) runs as chunks of 16, 16 and 5 tokens:
    // FLOPs as one pass, weights read once per chunk.
    before = ctx.counters;
    dec.truncate(1, 0);
    std::vector<int32_t> longer(37, 11);
    dec.eval(ctx, longer, 1, true);
    Counters chunks;
    for (int64_t start = 0; start < 37; start += 16) {
      std::vector<int64_t> lp;
      for (int64_t i = start; i < std::min<int64_t>(37, start + 16); ++i) lp.push_back(i);
      chunks += analytic_forward(spec, lp, static_cast<int64_t>(lp.size()), Phase::Prefill);
    }
    test::expect_same_counters(ctx.counters - before, chunks);
  }
}

TEST(Analytic, ScoringAddsTheLogSoftmax) {
  Model m = test::make_tiny_model({.arch = "qwen2"});
  const ModelSpec spec = ModelSpec::of(m);
  ExecContext ctx(1);
  Decoder dec(m, 32);
  const std::vector<int32_t> ids = {5, 6, 7, 8, 9, 10};
  score_tokens(ctx, dec, ids, /*top_k=*/0);
  std::vector<int64_t> pos = {0, 1, 2, 3, 4, 5};
  Counters expected = analytic_forward(spec, pos, 6, Phase::Prefill);
  expected += analytic_log_softmax(m.config.n_vocab, 5, Phase::Prefill);  // rows 0..4 predict ids 1..5
  test::expect_same_counters(ctx.counters, expected);
}

TEST(Analytic, StandardFormulaCrossCheck) {
  // flops.md: at decode position t, ≈ 2·N_matmul + 4·n_layer·(t+1)·d_attn per token.
  Model m = test::make_tiny_model({});
  const ModelConfig& c = m.config;
  const ModelSpec spec = ModelSpec::of(m);
  const int64_t t = 20;
  const Counters k = analytic_forward(spec, std::span<const int64_t>(&t, 1), 1, Phase::Decode);
  const uint64_t n_matmul = static_cast<uint64_t>(
      c.n_layer * (c.n_embd * c.q_dim() + 2 * c.n_embd * c.kv_dim() + c.q_dim() * c.n_embd + 3 * c.n_embd * c.n_ff) +
      c.n_embd * c.n_vocab);
  EXPECT_EQ(k.flops[1][int(OpClass::Matmul)], 2 * n_matmul);
  EXPECT_EQ(k.flops[1][int(OpClass::Attention)], static_cast<uint64_t>(4 * c.n_layer * (t + 1) * c.q_dim()));
  EXPECT_EQ(spec.n_params(), m.n_params());
  EXPECT_EQ(spec.weight_bytes(), m.weight_bytes());
}

}  // namespace
}  // namespace tenx
