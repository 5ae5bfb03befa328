// Gemma 3's image rows see their whole image (BatchToken::lookahead), as llama.cpp decodes a gemma3
// image with causal attention off: against the float64 oracle's mask (naive_forward.hpp), through
// the sliding-window rings, in chunks and batches that must keep the image whole, and counted ==
// analytic with the extra keys.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "decoder_checks.hpp"
#include "naive_forward.hpp"
#include "tenx/model/analytic.hpp"
#include "tenx/model/decoder.hpp"
#include "tenx/model/sequence_scheduler.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/task.hpp"
#include "test_models.hpp"

namespace tenx::image_lookahead_test {
namespace {

// gemma3: layers 0 and 1 local (window 3, shorter than the image), layer 2 global.
Model gemma3() { return test::make_tiny_model({.arch = "gemma3", .layers = 3, .window = 3, .swa_period = 3}); }

// A text token, 5 image rows (positions 1..5, each seeing up to position 5), 6 text tokens.
struct ImagePrompt {
  std::vector<int32_t> ids = {5, 0, 0, 0, 0, 0, 44, 9, 61, 2, 17, 3};
  std::vector<int32_t> lookahead = {0, 4, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0};
  std::vector<float> rows;
  std::vector<const float*> pointers;
  explicit ImagePrompt(const Model& m) {
    const int64_t d = m.config.n_embd;
    rows.resize(static_cast<size_t>(5 * d));
    for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<float>(std::sin(0.37 * double(i) + 1.0));
    pointers.assign(ids.size(), nullptr);
    for (int k = 0; k < 5; ++k) pointers[static_cast<size_t>(1 + k)] = rows.data() + k * d;
  }
};

std::vector<int64_t> positions_of(size_t n, int64_t from = 0) {
  std::vector<int64_t> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = from + static_cast<int64_t>(i);
  return p;
}

TEST(ImageLookahead, TheOracleMaskChangesTheLogitsFromTheImageOn) {
  const Model m = gemma3();
  const ImagePrompt p(m);
  const auto causal = test::naive_logits(m, p.ids, p.pointers);
  const auto seeing = test::naive_logits(m, p.ids, p.pointers, {}, p.lookahead);
  const auto V = static_cast<size_t>(m.config.n_vocab);
  double before = 0, after = 0;
  for (size_t i = 0; i < V; ++i) before = std::max(before, std::abs(causal[i] - seeing[i]));
  for (size_t i = V; i < causal.size(); ++i) after = std::max(after, std::abs(causal[i] - seeing[i]));
  EXPECT_EQ(before, 0.0);  // position 0 sees nothing new
  EXPECT_GT(after, 1e-2);
}

TEST(ImageLookahead, DecoderMatchesTheFloat64OracleInAnyChunkingAndRetention) {
  const Model m = gemma3();
  const ImagePrompt p(m);
  const auto ref = test::naive_logits(m, p.ids, p.pointers, {}, p.lookahead);
  const auto causal = test::naive_logits(m, p.ids, p.pointers);
  // max_batch 6: chunks [0, 1), [1, 7), [7, 12) (the image is never cut); 5: exactly the image.
  for (int64_t max_batch : {5, 6, 8, 32})
    for (KvRetention r : {KvRetention::Window, KvRetention::Full}) {
      ExecContext ctx(2);
      Decoder dec(m, 32, 1, max_batch, r);
      const auto logits = dec.eval(ctx, p.ids, 0, true, p.pointers, p.lookahead);
      EXPECT_LT(test::max_abs_diff(logits, ref), 1e-4) << max_batch;
      EXPECT_GT(test::max_abs_diff(logits, causal), 1e-2) << max_batch;
    }
}

TEST(ImageLookahead, CountedEqualsAnalyticWithTheExtraKeys) {
  const Model m = gemma3();
  const ImagePrompt p(m);
  const ModelSpec spec = ModelSpec::of(m);
  ExecContext ctx(1);
  Decoder dec(m, 32, 1, 32);
  dec.eval(ctx, p.ids, 0, true, p.pointers, p.lookahead);
  const std::vector<int64_t> pos = positions_of(p.ids.size());
  test::expect_same_counters(ctx.counters, analytic_forward(spec, pos, 12, Phase::Prefill, 5, {}, p.lookahead));
  // The extra keys by hand: the global layer's image rows see 4+3+2+1 more; each local layer
  // (window 3) too, the window cutting only earlier keys.
  const Counters causal = analytic_forward(spec, pos, 12, Phase::Prefill, 5);
  const uint64_t H = static_cast<uint64_t>(m.config.n_head), hd = static_cast<uint64_t>(m.config.head_dim);
  EXPECT_EQ(ctx.counters.flops[int(Phase::Prefill)][int(OpClass::Attention)] -
                causal.flops[int(Phase::Prefill)][int(OpClass::Attention)],
            3 * 10 * 4 * hd * H);
}

TEST(ImageLookahead, AnImageLongerThanABatchOrReachingPastItIsRefused) {
  const Model m = gemma3();
  const ImagePrompt p(m);
  ExecContext ctx(1);
  Decoder small(m, 32, 1, 4);
  EXPECT_THROW(small.eval(ctx, p.ids, 0, true, p.pointers, p.lookahead), Error);
  Decoder dec(m, 32, 1, 32);
  const std::vector<BatchToken> cut = {{5, 0, 0, false, nullptr, 0}, {0, 1, 0, true, p.rows.data(), 4}};
  EXPECT_THROW(dec.forward(ctx, cut), Error);
  EXPECT_EQ(dec.seq_len(0), 0);  // refused before any state changed
}

// The sliding-window ring going back past what it holds recomputes the sequence (replay): the
// image rows keep their lookahead there.
TEST(ImageLookahead, ReplayAfterTruncationKeepsTheImageWhole) {
  const Model m = gemma3();
  const ImagePrompt p(m);
  const auto ref = test::naive_logits(m, p.ids, p.pointers, {}, p.lookahead);
  ExecContext ctx(1);
  Decoder dec(m, 32, 1, 6);
  std::vector<int32_t> more(p.ids.begin(), p.ids.end());
  for (int i = 0; i < 6; ++i) more.push_back(7 + i);  // 6 more text positions fill the rings further
  std::vector<const float*> rows = p.pointers;
  rows.resize(more.size(), nullptr);
  std::vector<int32_t> ahead = p.lookahead;
  ahead.resize(more.size(), 0);
  dec.eval(ctx, more, 0, false, rows, ahead);
  dec.truncate(0, 11);  // back 7: beyond a ring of 3 + 6 - 1
  const auto last = dec.eval(ctx, std::span<const int32_t>(&p.ids[11], 1), 0, false);
  const auto V = static_cast<size_t>(m.config.n_vocab);
  double diff = 0;
  for (size_t i = 0; i < V; ++i) diff = std::max(diff, std::abs(static_cast<double>(last[i]) - ref[11 * V + i]));
  EXPECT_LT(diff, 1e-4);
}

Task<void> feed_into(SequenceScheduler& s, int32_t seq, std::vector<int32_t> ids, FeedRows rows, FeedResult& out) {
  out = co_await s.feed(seq, std::move(ids), std::move(rows), Phase::Prefill, true);
}

// Batched with another sequence that leaves too little room for the image: the scheduler moves
// the image to the next forward instead of cutting it; logits and cost as alone.
TEST(ImageLookahead, TheSchedulerNeverCutsAnImage) {
  const Model m = gemma3();
  const ImagePrompt p(m);
  const auto ref = test::naive_logits(m, p.ids, p.pointers, {}, p.lookahead);
  ExecContext ctx(1);
  Decoder dec(m, 32, 2, 7);
  SequenceScheduler s(dec, ctx);
  FeedResult text, image;
  // 5 of 7: room for two, and the image begins at the second.
  const std::vector<int32_t> text_ids = {8, 9, 10, 11, 12};
  s.run(2, [&](size_t i, int32_t seq) -> Task<void> {
    if (i == 0) return feed_into(s, seq, text_ids, {}, text);
    return feed_into(s, seq, p.ids, FeedRows(p.pointers, p.lookahead), image);
  }, {});
  EXPECT_GE(s.forwards(), 3u);
  EXPECT_LT(test::max_abs_diff(image.logits, ref), 1e-4);
  // Its cost is the one of running alone, in chunks of 7 that keep the image whole: [0, 7), [7, 12).
  const ModelSpec spec = ModelSpec::of(m);
  Counters alone = analytic_forward(spec, positions_of(7), 7, Phase::Prefill, 5, {},
                                    std::span<const int32_t>(p.lookahead).subspan(0, 7));
  alone += analytic_forward(spec, positions_of(5, 7), 5, Phase::Prefill);
  test::expect_same_counters(image.cost, alone);
  EXPECT_EQ(s.counted_flops(), s.attributed_flops());
  EXPECT_THROW(s.feed(0, p.ids, FeedRows(p.pointers, {0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), Phase::Prefill, true), Error);
}

}  // namespace
}  // namespace tenx::image_lookahead_test
