// attention: the scalar reference against a naive full-matrix computation
// written here (S = QKᵀ/√d with a causal mask, row softmax, S·V), and every
// instruction-set build against the reference over GQA shapes, odd head sizes,
// several sequences in one call and misaligned buffers; counters identical.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <random>
#include <vector>

#include "tenx/ops/simd_kernels.hpp"
#include "ops/ops_test_util.hpp"
#include "tenx/ops/kernels.hpp"
#include "tenx/ops/reference.hpp"
#include "tenx/util/error.hpp"

namespace tenx {
namespace {

using testing::Misaligned;
using testing::random_floats;

// Causal self-attention of one sequence of T tokens, the textbook way.
std::vector<double> naive_causal(const std::vector<float>& q, const std::vector<float>& k,
                                 const std::vector<float>& v, int64_t T, const AttentionShape& s) {
  const int64_t hd = s.head_dim, qd = s.n_head * hd, kvd = s.n_head_kv * hd;
  std::vector<double> out(static_cast<size_t>(T * qd));
  for (int64_t h = 0; h < s.n_head; ++h) {
    const int64_t g = h / (s.n_head / s.n_head_kv);
    std::vector<double> S(static_cast<size_t>(T * T), -INFINITY);  // the full [T, T] matrix
    for (int64_t i = 0; i < T; ++i)
      for (int64_t j = 0; j <= i; ++j) {
        double dot = 0;
        for (int64_t d = 0; d < hd; ++d) dot += double(q[i * qd + h * hd + d]) * k[j * kvd + g * hd + d];
        S[i * T + j] = dot / std::sqrt(double(hd));
        if (s.softcap > 0) S[i * T + j] = s.softcap * std::tanh(S[i * T + j] / s.softcap);  // gemma2
      }
    for (int64_t i = 0; i < T; ++i) {
      double mx = -INFINITY, sum = 0;
      for (int64_t j = 0; j < T; ++j) mx = std::max(mx, S[i * T + j]);
      for (int64_t j = 0; j < T; ++j) sum += S[i * T + j] = std::exp(S[i * T + j] - mx);
      for (int64_t d = 0; d < hd; ++d) {
        double acc = 0;
        for (int64_t j = 0; j < T; ++j) acc += S[i * T + j] / sum * v[j * kvd + g * hd + d];
        out[i * qd + h * hd + d] = acc;
      }
    }
  }
  return out;
}

TEST(Attention, ReferenceMatchesNaiveFullMatrix) {
  std::mt19937 rng(1);
  const AttentionShape s{6, 2, 8};
  const int64_t T = 11;
  const auto q = random_floats(rng, T * 48), k = random_floats(rng, T * 16), v = random_floats(rng, T * 16);
  std::vector<AttentionKeys> keys;
  for (int64_t t = 0; t < T; ++t) keys.push_back({k.data(), v.data(), t + 1});
  std::vector<float> out(static_cast<size_t>(T * 48));
  ExecContext ctx(1);
  ref::attention(ctx, out.data(), q.data(), keys.data(), T, s);
  const auto expect = naive_causal(q, k, v, T, s);
  for (size_t i = 0; i < out.size(); ++i) ASSERT_NEAR(out[i], expect[i], 1e-6) << i;
}

// gemma2's soft-capped scores, the reference against the naive matrix with c·tanh(s/c).
TEST(Attention, ReferenceSoftcapMatchesNaiveFullMatrix) {
  std::mt19937 rng(2);
  const AttentionShape s{6, 2, 8, 0.0f, 0.5f};
  const int64_t T = 11;
  const auto q = random_floats(rng, T * 48, 3.0f), k = random_floats(rng, T * 16), v = random_floats(rng, T * 16);
  std::vector<AttentionKeys> keys;
  for (int64_t t = 0; t < T; ++t) keys.push_back({k.data(), v.data(), t + 1});
  std::vector<float> out(static_cast<size_t>(T * 48)), plain(out.size());
  ExecContext ctx(1), ctx2(1);
  ref::attention(ctx, out.data(), q.data(), keys.data(), T, s);
  const auto expect = naive_causal(q, k, v, T, s);
  for (size_t i = 0; i < out.size(); ++i) ASSERT_NEAR(out[i], expect[i], 1e-6) << i;
  ref::attention(ctx2, plain.data(), q.data(), keys.data(), T, AttentionShape{6, 2, 8});
  double moved = 0;  // a cap of 0.5 on these scores is not decoration
  for (size_t i = 0; i < out.size(); ++i) moved = std::max(moved, double(std::fabs(out[i] - plain[i])));
  EXPECT_GT(moved, 1e-2);
  const uint64_t scores = 66 * 6;  // Σ (t+1) keys x heads
  EXPECT_EQ(ctx.counters.flops[0][int(OpClass::Other)] - ctx2.counters.flops[0][int(OpClass::Other)],
            flop_cost::kSoftcap * scores);
}

TEST(Attention, SingleKeyReturnsItsValue) {
  const AttentionShape s{2, 1, 3};
  const std::vector<float> q = {1, 2, 3, -4, 5, 6}, k = {0.5f, 0.5f, 0.5f}, v = {7, -8, 9};
  const AttentionKeys keys{k.data(), v.data(), 1};
  std::vector<float> out(6);
  ExecContext ctx(2);
  attention(ctx, out.data(), q.data(), &keys, 1, s);
  EXPECT_EQ(out, (std::vector<float>{7, -8, 9, 7, -8, 9}));
}

TEST(Attention, EveryIsaMatchesReference) {
  std::mt19937 rng(9);
  struct Case {
    AttentionShape shape;
    std::vector<int64_t> seq_lens;  // sequences in the batch
  };
  const std::vector<Case> cases = {
      {{1, 1, 1}, {1}},         {{4, 4, 7}, {3}},          {{8, 2, 16}, {1, 5}},
      {{6, 3, 33}, {17}},       {{12, 4, 64}, {2, 9, 1}},  {{14, 2, 65}, {40}},
      {{4, 1, 100}, {3, 4}},    {{2, 2, 128}, {70}},      {{130, 1, 4}, {5}},  // group > kMaxAttendGroup
      {{32, 2, 64}, {1}},       {{9, 3, 17}, {2, 2, 2, 2}},
      // Prefill chunks (several queries over one cache: keys transposed once), keys
      // past whole 64-key tiles, heads of every vector-width remainder, chunk limits.
      {{12, 12, 64}, {100}},    {{6, 2, 33}, {70, 3}},    {{3, 1, 23}, {1, 65}}, {{2, 2, 8}, {33, 1, 31}},
      // gemma2's score soft-cap on the decode, two-row and one-row prefill paths.
      {{8, 2, 16, 0.0f, 1.5f}, {1, 5}}, {{12, 12, 64, 0.0f, 2.0f}, {100}}, {{3, 1, 23, 0.0f, 1.0f}, {1, 65}},
  };
  for (simd::Isa isa : {simd::Isa::Generic, simd::Isa::Avx2, simd::Isa::Avx512}) {
    if (!simd::isa_supported(isa)) continue;
    const auto& kern = simd::kernels_for(isa);
    for (const auto& c : cases) {
      const auto& s = c.shape;
      const int64_t qd = s.n_head * s.head_dim, kvd = s.n_head_kv * s.head_dim;
      // Each sequence has its own cache; its tokens attend causally, and a
      // sequence of length L also has a prefix of `past` older cache rows.
      std::vector<Misaligned> ks, vs;
      std::vector<AttentionKeys> keys;
      int64_t T = 0;
      for (int64_t L : c.seq_lens) T += L;
      for (size_t si = 0; si < c.seq_lens.size(); ++si) {
        const int64_t past = static_cast<int64_t>(si) * 3, n = past + c.seq_lens[si];
        ks.emplace_back(random_floats(rng, n * kvd));
        vs.emplace_back(random_floats(rng, n * kvd));
      }
      for (size_t si = 0; si < c.seq_lens.size(); ++si) {
        const int64_t past = static_cast<int64_t>(si) * 3;
        for (int64_t t = 0; t < c.seq_lens[si]; ++t) keys.push_back({ks[si].data(), vs[si].data(), past + t + 1});
      }
      const Misaligned q(random_floats(rng, T * qd, 2.0f));
      Misaligned out(T * qd, NAN);
      std::vector<float> expect(static_cast<size_t>(T * qd));
      ExecContext ref(1);
      ref.phase = Phase::Decode;
      ref::attention(ref, expect.data(), q.data(), keys.data(), T, s);
      for (int threads : {1, 2, 5}) {  // different task splits of the query groups
        ExecContext fast(threads);
        fast.phase = Phase::Decode;
        simd::attention_with(kern, fast, out.data(), q.data(), keys.data(), T, s);
        for (size_t i = 0; i < expect.size(); ++i)
          ASSERT_NEAR(out[i], expect[i], 2e-5 * (1 + std::fabs(expect[i])))
              << kern.name << " n_head=" << s.n_head << " hd=" << s.head_dim << " threads=" << threads
              << " i=" << i;
        EXPECT_EQ(fast.counters, ref.counters);
      }
    }
  }
}

// The cache layout (K transposed, a ring of `cap` slots, the window starting anywhere and
// wrapping around the ring's end) gives the row layout's values bit for bit, on every ISA: the
// decoder's ring must not change a logit. Queries with the same first key form prefill chunks.
TEST(Attention, CachedRingLayoutIsBitIdenticalToRows) {
  std::mt19937 rng(21);
  struct Case {
    AttentionShape shape;
    int64_t cap, positions;                         // ring slots; positions written so far
    std::vector<std::pair<int64_t, int64_t>> queries;  // (first, n_keys), all inside the ring
  };
  const std::vector<Case> cases = {
      {{4, 2, 16}, 12, 30, {{22, 8}, {20, 10}, {18, 12}}},                // wraps at slot 12
      {{8, 2, 64}, 100, 250, {{150, 100}, {160, 90}, {160, 90}, {200, 1}}},  // prefill chunk of 2
      {{4, 2, 16}, 300, 700, {{400, 300}, {450, 250}, {500, 200}, {640, 60}}},  // several blocks and a wrap
      {{6, 3, 33}, 70, 70, {{0, 70}, {0, 65}, {0, 3}, {5, 64}}},          // never wrapped
      {{12, 4, 65}, 40, 41, {{1, 40}, {39, 2}}},                          // one key past the wrap
      {{3, 1, 23, 0.0f, 1.5f}, 9, 100, {{91, 9}, {95, 5}, {99, 1}}},      // soft-cap
      {{130, 1, 4}, 17, 33, {{16, 17}, {17, 16}}},                        // group > kMaxAttendGroup
  };
  for (simd::Isa isa : {simd::Isa::Generic, simd::Isa::Avx2, simd::Isa::Avx512}) {
    if (!simd::isa_supported(isa)) continue;
    const auto& kern = simd::kernels_for(isa);
    for (const Case& c : cases) {
      const AttentionShape& s = c.shape;
      const int64_t qd = s.n_head * s.head_dim, kvd = s.n_head_kv * s.head_dim, T = std::ssize(c.queries);
      const std::vector<float> K = random_floats(rng, c.positions * kvd), V = random_floats(rng, c.positions * kvd);
      // The ring: position p in slot p mod cap, K transposed, then V rows, then the guard.
      std::vector<float> cache(static_cast<size_t>(2 * c.cap * kvd + kAttentionKeyGuard), 0.0f);
      float* kt = cache.data();
      float* v = kt + c.cap * kvd;
      for (int64_t p = std::max<int64_t>(0, c.positions - c.cap); p < c.positions; ++p)
        for (int64_t i = 0; i < kvd; ++i) {
          const int64_t slot = p % c.cap, block = slot / kAttentionKeyBlock;  // CachedKeys's blocks
          const int64_t width = std::min(kAttentionKeyBlock, c.cap - block * kAttentionKeyBlock);
          kt[block * kAttentionKeyBlock * kvd + i * width + slot % kAttentionKeyBlock] = K[static_cast<size_t>(p * kvd + i)];
          v[p % c.cap * kvd + i] = V[static_cast<size_t>(p * kvd + i)];
        }
      std::vector<AttentionKeys> rows;
      std::vector<CachedKeys> cached;
      for (const auto& [first, n] : c.queries) {
        rows.push_back({K.data() + first * kvd, V.data() + first * kvd, n});
        cached.push_back({kt, v, c.cap, first, n});
      }
      const std::vector<float> q = random_floats(rng, T * qd, 2.0f);
      for (int threads : {1, 3}) {
        ExecContext a(threads), b(threads);
        std::vector<float> from_rows(static_cast<size_t>(T * qd), NAN), from_cache(from_rows.size(), NAN);
        simd::attention_with(kern, a, from_rows.data(), q.data(), rows.data(), T, s);
        simd::attention_cached_with(kern, b, from_cache.data(), q.data(), cached.data(), T, s);
        int bad = 0;
        for (size_t i = 0; i < from_rows.size(); ++i)
          if (std::bit_cast<uint32_t>(from_cache[i]) != std::bit_cast<uint32_t>(from_rows[i]) && ++bad < 12)
            ADD_FAILURE() << kern.name << " cap=" << c.cap << " hd=" << s.head_dim << " threads=" << threads << " i=" << i;
        EXPECT_EQ(a.counters, b.counters);
      }
    }
  }
  ExecContext ctx(1);
  std::vector<float> buf(64 + kAttentionKeyGuard), out(4);
  const CachedKeys too_many{buf.data(), buf.data() + 32, 8, 0, 9};
  EXPECT_THROW(attention_cached(ctx, out.data(), buf.data(), &too_many, 1, AttentionShape{1, 1, 4}), Error);
}

TEST(Attention, CountsWhatTheHeaderSays) {
  const AttentionShape s{4, 2, 8};
  std::vector<float> k(5 * 16, 0.1f), v(5 * 16, 0.2f), q(2 * 32, 0.3f), out(2 * 32);
  const AttentionKeys keys[2] = {{k.data(), v.data(), 4}, {k.data(), v.data(), 5}};
  ExecContext ctx(2);
  attention(ctx, out.data(), q.data(), keys, 2, s);
  const uint64_t nk = 4 + 5;
  EXPECT_EQ(ctx.counters.flops[0][int(OpClass::Attention)], 4 * nk * 8 * 4);
  EXPECT_EQ(ctx.counters.flops[0][int(OpClass::Other)], (flop_cost::kScale + flop_cost::kSoftmax) * nk * 4);
  EXPECT_EQ(ctx.counters.kv_bytes_read[0], 2 * nk * 16 * 4);
}

TEST(Attention, BadShapesAreClearErrors) {
  std::vector<float> k(16), v(16), q(16), out(16);
  const AttentionKeys keys{k.data(), v.data(), 1};
  ExecContext ctx(1);
  EXPECT_THROW(attention(ctx, out.data(), q.data(), &keys, 1, AttentionShape{3, 2, 4}), Error);
  const AttentionKeys none{k.data(), v.data(), 0};
  EXPECT_THROW(attention(ctx, out.data(), q.data(), &none, 1, AttentionShape{2, 2, 4}), Error);
}

}  // namespace
}  // namespace tenx
