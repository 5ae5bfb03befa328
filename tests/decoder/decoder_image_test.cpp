// Image rows in the decoder: positions whose input row is given (image patches)
// against the float64 oracle fed the same rows, and their compute accounting.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "naive_forward.hpp"
#include "decoder_checks.hpp"
#include "tenx/model/analytic.hpp"
#include "tenx/model/decoder.hpp"
#include "tenx/model/generation.hpp"
#include "tenx/util/error.hpp"
#include "test_models.hpp"

namespace tenx {
namespace {

struct ImagePrompt {
  std::vector<int32_t> ids;
  std::vector<float> rows;  // one row per image position
  std::vector<const float*> pointers;
};

// 3 text tokens, 5 image positions, 4 text tokens; image rows are seeded values of
// the scale of an embedding.
ImagePrompt image_prompt(const Model& m) {
  ImagePrompt p;
  const int64_t d = m.config.n_embd;
  p.ids = {5, 17, 3, 0, 0, 0, 0, 0, 44, 9, 61, 2};
  p.rows.resize(static_cast<size_t>(5 * d));
  for (size_t i = 0; i < p.rows.size(); ++i) p.rows[i] = static_cast<float>(std::sin(0.37 * double(i) + 1.0));
  p.pointers.assign(p.ids.size(), nullptr);
  for (int k = 0; k < 5; ++k) p.pointers[static_cast<size_t>(3 + k)] = p.rows.data() + k * d;
  return p;
}

TEST(DecoderImage, MatchesFloat64OracleFedTheSameRows) {
  for (DType type : {DType::F32, DType::F16}) {
    test::TinySpec spec;
    spec.matrices = type;
    const Model m = test::make_tiny_model(spec);
    const ImagePrompt p = image_prompt(m);
    ExecContext ctx(2);
    Decoder dec(m, 32, 1, 5);  // max_batch 5: the image straddles chunks
    const auto logits = dec.eval(ctx, p.ids, 0, true, p.pointers);
    const auto ref = test::naive_logits(m, p.ids, p.pointers);
    EXPECT_LT(test::max_abs_diff(logits, ref), 1e-4);
    // The rows matter: the text-only run differs after the image.
    const auto text_only = test::naive_logits(m, p.ids);
    double diff = 0;
    for (size_t i = 0; i < ref.size(); ++i) diff = std::max(diff, std::abs(ref[i] - text_only[i]));
    EXPECT_GT(diff, 0.1);
  }
}

// muse-glimmer norms every input row, image rows too (llama.cpp's muse-glimmer.cpp; the oracle's
// embedding norm), and counts it.
TEST(DecoderImage, MuseGlimmerNormsImageRowsAsTokens) {
  const Model m = test::make_tiny_model({.arch = "muse-glimmer", .layers = 2, .window = 4, .swa_layers = {true, false}});
  const ImagePrompt p = image_prompt(m);
  ExecContext ctx(1);
  Decoder dec(m, 32);
  const auto logits = dec.eval(ctx, p.ids, 0, true, p.pointers);
  EXPECT_LT(test::max_abs_diff(logits, test::naive_logits(m, p.ids, p.pointers)), 1e-4);
  std::vector<int64_t> positions;
  for (size_t i = 0; i < p.ids.size(); ++i) positions.push_back(static_cast<int64_t>(i));
  test::expect_same_counters(ctx.counters, analytic_forward(ModelSpec::of(m), positions,
                                                            static_cast<int64_t>(p.ids.size()), Phase::Prefill, 5));
}

TEST(DecoderImage, ScoreAndGenerateTakeTheRows) {
  const Model m = test::make_tiny_model({});
  const ImagePrompt p = image_prompt(m);
  const auto ref = test::naive_logits(m, p.ids, p.pointers);
  const int64_t V = m.config.n_vocab;
  ExecContext ctx(1);
  Decoder dec(m, 32);
  const auto scored = score_tokens(ctx, dec, p.ids, 0, 0, p.pointers);
  // log p(ids[t+1]) from the oracle's row t.
  for (size_t t = 0; t + 1 < p.ids.size(); ++t) {
    double mx = -1e300, sum = 0;
    for (int64_t v = 0; v < V; ++v) mx = std::max(mx, ref[t * V + v]);
    for (int64_t v = 0; v < V; ++v) sum += std::exp(ref[t * V + v] - mx);
    EXPECT_NEAR(scored[t + 1].logprob, ref[t * V + p.ids[t + 1]] - mx - std::log(sum), 1e-4) << t;
  }
  dec.truncate(0, 0);
  Sampler greedy({});
  const GenerationResult g = generate(ctx, dec, p.ids, 1, greedy, -1, {}, 0, p.pointers);
  int32_t best = 0;
  const size_t last = (p.ids.size() - 1) * static_cast<size_t>(V);
  for (int32_t v = 1; v < V; ++v)
    if (ref[last + v] > ref[last + best]) best = v;
  ASSERT_EQ(g.tokens.size(), 1u);
  EXPECT_EQ(g.tokens[0], best);
}

TEST(DecoderImage, ImagePositionsReadNoEmbeddingRow) {
  const Model m = test::make_tiny_model({});
  const ImagePrompt p = image_prompt(m);
  ExecContext ctx(1);
  Decoder dec(m, 32);
  dec.eval(ctx, p.ids, 0, true, p.pointers);
  std::vector<int64_t> positions;
  for (size_t i = 0; i < p.ids.size(); ++i) positions.push_back(static_cast<int64_t>(i));
  const Counters expected = analytic_forward(ModelSpec::of(m), positions, static_cast<int64_t>(p.ids.size()),
                                             Phase::Prefill, 5);
  EXPECT_EQ(ctx.counters, expected);
  // And the difference to a text-only run is exactly five embedding rows.
  ExecContext text(1);
  Decoder dec2(m, 32);
  dec2.eval(text, p.ids, 0, true);
  EXPECT_EQ(text.counters.total_weight_bytes() - ctx.counters.total_weight_bytes(),
            5 * static_cast<uint64_t>(m.token_embd->row_bytes()));
  EXPECT_EQ(text.counters.total_flops(), ctx.counters.total_flops());
}

TEST(DecoderImage, RejectsRowsOfTheWrongCount) {
  const Model m = test::make_tiny_model({});
  const ImagePrompt p = image_prompt(m);
  ExecContext ctx(1);
  Decoder dec(m, 32);
  std::vector<const float*> short_rows(p.pointers.begin(), p.pointers.end() - 1);
  EXPECT_THROW(dec.eval(ctx, p.ids, 0, true, short_rows), Error);
}

}  // namespace
}  // namespace tenx
