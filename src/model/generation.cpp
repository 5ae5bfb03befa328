#include "tenx/model/generation.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "tenx/ops/kernels.hpp"
#include "tenx/util/rng.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/process.hpp"

namespace tenx {

std::vector<TokenLogprob> score_tokens(ExecContext& ctx, Decoder& dec, std::span<const int32_t> ids, int top_k,
                                       int32_t seq, std::span<const float* const> embeddings) {
  const int64_t V = dec.model().config.n_vocab;
  std::vector<TokenLogprob> out;
  if (ids.empty()) return out;
  ctx.phase = Phase::Prefill;
  std::span<const float> logits = dec.eval(ctx, ids, seq, /*all_logits=*/true, embeddings);
  std::vector<double> lp(static_cast<size_t>(V));
  std::vector<int32_t> order(static_cast<size_t>(V));
  out.resize(ids.size());
  for (size_t t = 0; t < ids.size(); ++t) {
    out[t].id = ids[t];
    if (t == 0) out[t].logprob = std::numeric_limits<double>::quiet_NaN();
  }
  for (size_t t = 0; t < ids.size(); ++t) {
    // Row t predicts token t+1. The last row's distribution is only needed for top-k.
    if (t + 1 == ids.size() && top_k <= 0) break;
    log_softmax(ctx, lp.data(), logits.data() + t * static_cast<size_t>(V), V);
    if (t + 1 < ids.size()) out[t + 1].logprob = lp[static_cast<size_t>(ids[t + 1])];
    if (top_k > 0) {
      const auto k = static_cast<size_t>(std::min<int64_t>(top_k, V));
      std::iota(order.begin(), order.end(), 0);
      std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                        [&](int32_t a, int32_t b) { return lp[a] > lp[b] || (lp[a] == lp[b] && a < b); });
      for (size_t i = 0; i < k; ++i) out[t].top.emplace_back(order[i], lp[static_cast<size_t>(order[i])]);
    }
  }
  return out;
}

Sampler::Sampler(SamplerOptions o) : opt_(o), state_(o.seed ^ kGoldenGamma) {}

int32_t Sampler::sample(std::span<const float> logits) {
  const auto V = static_cast<int32_t>(logits.size());
  if (opt_.temperature <= 0.0f) {
    int32_t best = 0;
    for (int32_t i = 1; i < V; ++i)
      if (logits[static_cast<size_t>(i)] > logits[static_cast<size_t>(best)]) best = i;
    return best;
  }
  std::vector<int32_t> idx(static_cast<size_t>(V));
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](int32_t a, int32_t b) {
    return logits[static_cast<size_t>(a)] > logits[static_cast<size_t>(b)] ||
           (logits[static_cast<size_t>(a)] == logits[static_cast<size_t>(b)] && a < b);
  });
  size_t n = idx.size();
  if (opt_.top_k > 0) n = std::min(n, static_cast<size_t>(opt_.top_k));
  std::vector<double> p(n);
  const double mx = logits[static_cast<size_t>(idx[0])];
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    p[i] = std::exp((logits[static_cast<size_t>(idx[i])] - mx) / opt_.temperature);
    sum += p[i];
  }
  if (opt_.top_p < 1.0f) {
    double cum = 0;
    size_t keep = 0;
    while (keep < n) {
      cum += p[keep++] / sum;
      if (cum >= opt_.top_p) break;
    }
    n = keep;
    sum = std::accumulate(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(n), 0.0);
  }
  // splitmix64: the same sequence on every machine (std distributions are not).
  state_ += kGoldenGamma;
  const uint64_t z = splitmix64_mix(state_);
  const double u = static_cast<double>(z >> 11) * 0x1.0p-53 * sum;
  double cum = 0;
  for (size_t i = 0; i < n; ++i) {
    cum += p[i];
    if (u < cum) return idx[i];
  }
  return idx[n - 1];
}

GenerationResult generate(ExecContext& ctx, Decoder& dec, std::span<const int32_t> prompt, int max_tokens,
                          Sampler& sampler, int32_t eos_id,
                          const std::function<bool(const std::vector<int32_t>&)>& stop, int32_t seq,
                          std::span<const float* const> prompt_embeddings) {
  GenerationResult r;
  if (prompt.empty()) throw Error("generate", "the prompt has no tokens");
  const int64_t V = dec.model().config.n_vocab;
  const double t0 = now_seconds();
  ctx.phase = Phase::Prefill;
  std::span<const float> logits = dec.eval(ctx, prompt, seq, false, prompt_embeddings);
  r.prefill_seconds = now_seconds() - t0;
  for (int i = 0; i < max_tokens; ++i) {
    const int32_t next = sampler.sample(logits.subspan(0, static_cast<size_t>(V)));
    if (i == 0) r.time_to_first_token = now_seconds() - t0;
    if (next == eos_id) {
      r.stopped_by_eos = true;
      break;
    }
    r.tokens.push_back(next);
    if (stop && stop(r.tokens)) break;
    if (i + 1 == max_tokens || dec.seq_len(seq) >= dec.n_ctx()) break;
    const double ts = now_seconds();
    ctx.phase = Phase::Decode;
    BatchToken b{next, static_cast<int32_t>(dec.seq_len(seq)), seq, true};
    logits = dec.forward(ctx, std::span<const BatchToken>(&b, 1));
    r.decode_step_seconds.push_back(now_seconds() - ts);
  }
  return r;
}

namespace {
int32_t argmax_row(std::span<const float> row) {
  int32_t best = 0;  // lowest id on ties (as the greedy Sampler)
  for (size_t i = 1; i < row.size(); ++i)
    if (row[i] > row[static_cast<size_t>(best)]) best = static_cast<int32_t>(i);
  return best;
}
}  // namespace

Task<GreedyText> greedy_until(SequenceScheduler& s, int32_t seq, const Tokenizer& tok, std::vector<float> logits,
                              int64_t max_tokens, std::function<size_t(const std::string&)> cut,
                              std::function<void(std::span<const float> row, int32_t chosen)> on_token) {
  GreedyText g;
  Decoder& dec = s.decoder();
  const auto V = static_cast<size_t>(dec.model().config.n_vocab);
  for (int64_t i = 0; i < max_tokens; ++i) {
    const int32_t next = argmax_row(std::span<const float>(logits).subspan(0, V));
    if (g.first_token_time < 0) g.first_token_time = now_seconds();
    if (tok.is_eog(next)) {
      g.eos = true;
      break;
    }
    if (on_token) on_token(std::span<const float>(logits).subspan(0, V), next);
    ++g.tokens;
    g.ids.push_back(next);
    g.text += tok.token_to_piece(next, false);
    g.token_end.push_back(g.text.size());
    if (cut(g.text) != std::string::npos) break;
    if (i + 1 == max_tokens) break;
    if (dec.seq_len(seq) >= dec.n_ctx()) {
      g.context_full = true;
      break;
    }
    // (Vectors built by name: gcc 12 miscompiles braced lists inside a coroutine's co_await.)
    std::vector<int32_t> token(1, next);
    FeedResult step = co_await s.feed(seq, std::move(token), std::vector<const float*>(), Phase::Decode, false);
    ++g.fed;
    g.cost += step.cost;
    g.decode_seconds.push_back(step.seconds);
    logits = std::move(step.logits);
  }
  co_return g;
}

Task<GreedyText> prefill_then_greedy(SequenceScheduler& s, int32_t seq, const Tokenizer& tok, std::vector<int32_t> ids,
                                     FeedRows rows, int64_t max_tokens,
                                     std::function<size_t(const std::string&)> cut) {
  FeedResult head = co_await s.feed(seq, std::move(ids), std::move(rows), Phase::Prefill, false);
  GreedyText g = co_await greedy_until(s, seq, tok, std::move(head.logits), max_tokens, std::move(cut));
  g.cost += head.cost;
  co_return g;
}

StopStrings::StopStrings(std::vector<std::string> stops) : stops_(std::move(stops)) {
  for (const std::string& st : stops_) longest_ = std::max(longest_, st.size());
}

size_t StopStrings::operator()(const std::string& text) {
  const size_t from = searched_ >= longest_ ? searched_ - longest_ + 1 : 0;
  size_t earliest = std::string::npos;
  for (const std::string& st : stops_) {
    if (st.empty()) continue;
    const size_t at = text.find(st, from);
    if (at != std::string::npos) earliest = std::min(earliest, at);
  }
  searched_ = text.size();
  return earliest;
}

Task<ContinuationScores> score_continuations(SequenceScheduler& s, int32_t seq, std::vector<int32_t> context,
                                             FeedRows rows,
                                             std::vector<std::vector<int32_t>> continuations) {
  ContinuationScores out;
  ExecContext& ctx = s.context();
  const int64_t V = s.decoder().model().config.n_vocab;
  std::vector<double> lp(static_cast<size_t>(V)), first(static_cast<size_t>(V));
  // Log-softmax runs between the feeds, alone on this thread: its counters are this task's.
  auto log_softmax_counted = [&](double* out_row, const float* row) {
    const Counters before = ctx.counters;
    log_softmax(ctx, out_row, row, V);
    out.cost += ctx.counters - before;
  };
  FeedResult head = co_await s.feed(seq, std::move(context), std::move(rows), Phase::Prefill, false);
  out.cost += head.cost;
  log_softmax_counted(first.data(), head.logits.data());
  const int64_t L = s.decoder().seq_len(seq);
  out.context_length = L;
  for (const std::vector<int32_t>& c : continuations) {
    double ll = c.empty() ? 0.0 : first[static_cast<size_t>(c[0])];
    if (c.size() > 1) {
      FeedResult tail =
          co_await s.feed(seq, std::vector<int32_t>(c.begin(), c.end() - 1), std::vector<const float*>(), Phase::Prefill, true);
      out.cost += tail.cost;
      for (size_t i = 0; i + 1 < c.size(); ++i) {
        log_softmax_counted(lp.data(), tail.logits.data() + i * static_cast<size_t>(V));
        ll += lp[static_cast<size_t>(c[i + 1])];
      }
    }
    out.loglik.push_back(ll);
    s.decoder().truncate(seq, L);
  }
  co_return out;
}

std::vector<int32_t> bench_token_ids(int n, int64_t vocab) {
  std::vector<int32_t> ids(static_cast<size_t>(std::max(n, 0)));
  uint64_t s = 0x243F6A8885A308D3ull;
  for (auto& id : ids) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    id = static_cast<int32_t>((s >> 33) % static_cast<uint64_t>(vocab));
  }
  return ids;
}

void run_bench_workload(ExecContext& ctx, Decoder& dec, std::span<const int32_t> ids, int n_prompt, int n_gen) {
  if (ids.empty() || static_cast<int64_t>(ids.size()) < n_prompt)
    throw Error("bench", "the workload needs at least max(n_prompt, 1) token ids");
  dec.truncate(0, 0);
  if (n_prompt > 0) {
    ctx.phase = Phase::Prefill;
    dec.eval(ctx, ids.subspan(0, static_cast<size_t>(n_prompt)));
  }
  ctx.phase = Phase::Decode;
  int32_t tok = ids[0];
  for (int i = 0; i < n_gen; ++i) {
    BatchToken b{tok, static_cast<int32_t>(dec.seq_len(0)), 0, true};
    auto logits = dec.forward(ctx, std::span<const BatchToken>(&b, 1));
    tok = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  }
}

}  // namespace tenx
