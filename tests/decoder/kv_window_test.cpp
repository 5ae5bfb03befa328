// Sliding-window and chunked layers keep only what their queries can read (#14): a ring of
// W + max_batch - 1 positions per such layer. The logits are the same bit for bit as with every
// position kept (KvRetention::Full), fed in chunks of any size, across the ring's wrap, after a
// truncation further back than the ring holds and after copy_prefix; the memory the decoder
// reports is what a hand count of the positions gives and what the analytic model says.
#include <gtest/gtest.h>

#include <cstring>

#include "naive_forward.hpp"
#include "decoder_checks.hpp"
#include "tenx/model/analytic.hpp"
#include "tenx/model/decoder.hpp"
#include "tenx/model/model_init.hpp"
#include "test_models.hpp"

namespace tenx {
namespace {

constexpr int64_t kWindow = 8;

std::vector<int32_t> ids_of(int64_t n, int64_t vocab, int salt = 0) {
  std::vector<int32_t> ids;
  for (int64_t i = 0; i < n; ++i) ids.push_back(static_cast<int32_t>((i * 37 + 11 + salt * 5) % vocab));
  return ids;
}

// gemma3: layers 0, 1 local (window 8), layer 2 global. muse-glimmer: layers 1, 2 local.
Model gemma3_model() {
  return test::make_tiny_model({.arch = "gemma3", .layers = 3, .window = kWindow, .swa_period = 3});
}
Model muse_model() {
  return test::make_tiny_model({.arch = "muse-glimmer", .layers = 3, .window = kWindow, .swa_layers = {false, true, true}});
}
// llama4, 4 layers: 0-2 chunked (chunk shrunk to 8 so it acts on short sequences), 3 full.
Model llama4_model() {
  ModelInitSpec s;
  s.arch = "llama4";
  s.n_embd = 64, s.n_layer = 4, s.n_head = 4, s.n_head_kv = 2, s.n_ff = 96, s.n_vocab = 300;
  s.seed = 9, s.rope_base = 5e5f, s.n_expert = 4, s.n_expert_used = 1, s.n_ff_exp = 32, s.moe_layer_step = 2;
  Model m = Model::from_file(make_random_model(s));
  for (LayerConfig& lc : m.config.layers)
    if (lc.attn_chunk > 0) lc.attn_chunk = kWindow;
  return m;
}

// Every logit row of ids fed in chunks of `chunk` tokens.
std::vector<float> logits_in_chunks(ExecContext& ctx, Decoder& dec, const std::vector<int32_t>& ids, int64_t chunk) {
  std::vector<float> all;
  for (size_t i = 0; i < ids.size(); i += static_cast<size_t>(chunk)) {
    const size_t n = std::min(ids.size() - i, static_cast<size_t>(chunk));
    const std::span<const float> out = dec.eval(ctx, std::span<const int32_t>(ids).subspan(i, n), 0, true);
    all.insert(all.end(), out.begin(), out.end());
  }
  return all;
}

bool bit_identical(std::span<const float> a, std::span<const float> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

struct Family {
  const char* name;
  Model (*make)();
  int64_t local_layers;  // of n_layer
};
const Family kFamilies[] = {{"gemma3", gemma3_model, 2}, {"muse-glimmer", muse_model, 2}, {"llama4", llama4_model, 3}};

TEST(KvWindow, LogitsAreBitIdenticalToTheFullCacheInChunksOfAnySize) {
  constexpr int64_t kBatch = 5, kCtx = 64;  // ring: 8 + 5 - 1 = 12 positions
  for (const Family& f : kFamilies) {
    SCOPED_TRACE(f.name);
    const Model m = f.make();
    const auto ids = ids_of(3 * kWindow, m.config.n_vocab);
    ExecContext ctx(2);
    for (int64_t chunk : {1, 2, 3, 5}) {
      SCOPED_TRACE(chunk);
      Decoder ring(m, kCtx, 1, kBatch), full(m, kCtx, 1, kBatch, KvRetention::Full);
      const std::vector<float> a = logits_in_chunks(ctx, ring, ids, chunk), b = logits_in_chunks(ctx, full, ids, chunk);
      EXPECT_TRUE(bit_identical(a, b));
      EXPECT_LT(ring.kv_bytes_allocated(), full.kv_bytes_allocated());
    }
  }
}

// The float64 oracle (its own masks, from the file's keys) over 3 windows, as the families tests
// hold the decoder to it.
TEST(KvWindow, RingMatchesTheFloat64OracleBeyondTheWindow) {
  ExecContext ctx(2);
  for (const Family& f : {kFamilies[0], kFamilies[1]}) {
    SCOPED_TRACE(f.name);
    const Model m = f.make();
    const auto ids = ids_of(3 * kWindow, m.config.n_vocab);
    Decoder ring(m, 64, 1, 4);
    EXPECT_LT(test::max_abs_diff(logits_in_chunks(ctx, ring, ids, 4), test::naive_logits(m, ids)), 1e-4);
  }
  const Model m = llama4_model();
  const auto ids = ids_of(3 * kWindow, m.config.n_vocab);
  Decoder ring(m, 64, 1, 4);
  EXPECT_LT(test::max_abs_diff(logits_in_chunks(ctx, ring, ids, 4),
                               test::naive_logits(m, ids, {}, test::Llama4Constants{kWindow, 8192})),
            1e-4);
}

// Going back further than the ring holds (more than max_batch positions) recomputes the kept
// prefix; sharing a prefix with copy_prefix as well. Both give the full cache's logits.
TEST(KvWindow, TruncationBeyondTheRingAndCopyPrefixStayExact) {
  constexpr int64_t kBatch = 4, kCtx = 64;
  for (const Family& f : kFamilies) {
    SCOPED_TRACE(f.name);
    const Model m = f.make();
    const auto ids = ids_of(3 * kWindow, m.config.n_vocab), more = ids_of(6, m.config.n_vocab, 1);
    ExecContext ctx(2);
    std::vector<float> got[2];
    for (KvRetention r : {KvRetention::Window, KvRetention::Full}) {
      Decoder dec(m, kCtx, 2, kBatch, r);
      std::vector<float>& out = got[r == KvRetention::Full];
      logits_in_chunks(ctx, dec, ids, kBatch);
      dec.truncate(0, 10);  // 14 positions back: the rings hold 4 + window - 1
      EXPECT_EQ(dec.seq_len(0), 10);
      const std::vector<float> a = logits_in_chunks(ctx, dec, more, 3);
      dec.truncate(0, 22);  // no-op beyond the length: still 16
      dec.truncate(0, 14);  // 2 back: within the ring
      const std::vector<float> b = logits_in_chunks(ctx, dec, more, 2);
      dec.copy_prefix(0, 1, 12);  // 8 back from 20
      const std::span<const float> c = dec.eval(ctx, more, 1, true);
      out = a;
      out.insert(out.end(), b.begin(), b.end());
      out.insert(out.end(), c.begin(), c.end());
    }
    EXPECT_TRUE(bit_identical(got[0], got[1]));
    // And against a decoder that only ever saw ids[0..10) + more.
    Decoder fresh(m, kCtx, 1, kBatch);
    std::vector<int32_t> prefix(ids.begin(), ids.begin() + 10);
    fresh.eval(ctx, prefix);
    const std::span<const float> direct = fresh.eval(ctx, more, 0, true);
    EXPECT_TRUE(bit_identical(std::span<const float>(got[0]).first(direct.size()), direct));
  }
}

// Positions kept, counted by hand: a local layer min(n_ctx, W + B - 1), a global one n_ctx;
// K and V of kv_dim floats each.
TEST(KvWindow, MemoryIsWhatTheLayersKeepAndWhatTheAnalyticModelSays) {
  constexpr int64_t kBatch = 5;
  for (const Family& f : kFamilies) {
    SCOPED_TRACE(f.name);
    const Model m = f.make();
    const ModelConfig& c = m.config;
    const uint64_t per_position = 2 * static_cast<uint64_t>(c.kv_dim()) * sizeof(float);
    for (int64_t n_ctx : {6, 12, 40}) {  // below the window, the ring exactly, above
      SCOPED_TRACE(n_ctx);
      const int64_t ring = std::min<int64_t>(n_ctx, kWindow + kBatch - 1);
      const uint64_t by_hand = static_cast<uint64_t>(f.local_layers * ring + (c.n_layer - f.local_layers) * n_ctx) *
                               per_position;
      Decoder dec(m, n_ctx, 2, kBatch);
      EXPECT_EQ(dec.kv_bytes_allocated(), 2 * by_hand);
      EXPECT_EQ(kv_cache_bytes(c, n_ctx, kBatch), by_hand);
      ExecContext ctx(1);
      dec.eval(ctx, ids_of(n_ctx, c.n_vocab), 0);
      EXPECT_EQ(dec.kv_bytes_sequence_peak(), by_hand);
      EXPECT_EQ(dec.kv_bytes_used(), by_hand);
      EXPECT_EQ(Decoder(m, n_ctx, 1, kBatch, KvRetention::Full).kv_bytes_allocated(),
                static_cast<uint64_t>(c.n_layer * n_ctx) * per_position);
    }
    for (int64_t l = 0; l < c.n_layer; ++l)
      EXPECT_EQ(kv_positions_kept(c.layer(l), 1000, kBatch),
                c.layer(l).sliding_window > 0 || c.layer(l).attn_chunk > 0 ? kWindow + kBatch - 1 : 1000);
  }
}

}  // namespace
}  // namespace tenx
