#pragma once
// Scoring (per-token log-probabilities) and generation (greedy or sampled) on top
// of the decoder, with the timings and counters a report needs.
#include <cstdint>
#include <functional>
#include <span>
#include <utility>
#include <vector>

#include "tenx/model/decoder.hpp"
#include "tenx/model/sequence_scheduler.hpp"
#include "tenx/model/tokenizer.hpp"
#include "tenx/util/task.hpp"

namespace tenx {

struct TokenLogprob {
  int32_t id;
  double logprob;  // log p(id | earlier ids); NaN for the first position
  std::vector<std::pair<int32_t, double>> top;  // top-k of the next-token distribution after id
};

// Runs ids through sequence `seq` (prefill phase) and returns, per position,
// the log-probability of that token and optionally the top_k next tokens.
// embeddings: empty, or per id a row replacing its embedding (nullptr = text; see
// MultimodalPrompt::row_pointers).
std::vector<TokenLogprob> score_tokens(ExecContext& ctx, Decoder& dec, std::span<const int32_t> ids,
                                       int top_k = 0, int32_t seq = 0,
                                       std::span<const float* const> embeddings = {});

struct SamplerOptions {
  float temperature = 0.0f;  // 0 = greedy
  int top_k = 0;             // 0 = all
  float top_p = 1.0f;
  uint64_t seed = 0;
};

// Picks the next token from one row of logits. Greedy (argmax, lowest id on
// ties) when temperature is 0; otherwise top-k, top-p, then a draw from a
// seeded generator that is the same on every machine.
class Sampler {
 public:
  explicit Sampler(SamplerOptions o);
  int32_t sample(std::span<const float> logits);

 private:
  SamplerOptions opt_;
  uint64_t state_;
};

struct GenerationResult {
  std::vector<int32_t> tokens;      // generated ids (prompt excluded)
  double prefill_seconds = 0;       // prompt processing, including the first token's logits
  double time_to_first_token = 0;   // from start to the first generated token
  std::vector<double> decode_step_seconds;  // each later decode step
  bool stopped_by_eos = false;
};

// Prefills the prompt, then generates up to max_tokens. `stop` (optional) is
// called after every generated token and ends generation when it returns true.
// prompt_embeddings: empty, or per prompt id a row replacing its embedding (image patches).
GenerationResult generate(ExecContext& ctx, Decoder& dec, std::span<const int32_t> prompt, int max_tokens,
                          Sampler& sampler, int32_t eos_id = -1,
                          const std::function<bool(const std::vector<int32_t>&)>& stop = {}, int32_t seq = 0,
                          std::span<const float* const> prompt_embeddings = {});

// ---- on a SequenceScheduler's sequence (tenx run's items, any concurrency) ------------------------

// Greedy text: argmax (lowest id on ties) from `logits` (the row after what the sequence holds),
// each token fed back as a decode step, until an end-of-generation token, `cut` finds the text
// finished (returns where; npos: go on), max_tokens, or a full context.
struct GreedyText {
  std::string text;
  std::vector<int32_t> ids;       // the generated tokens (an end-of-generation token not included)
  std::vector<size_t> token_end;  // text.size() after each generated token
  int64_t tokens = 0;             // generated (an end-of-generation token not counted)
  int64_t fed = 0;                // generated tokens now in the cache (all but a last one that ended the text)
  bool context_full = false, eos = false;
  Counters cost;                  // of the decode steps, and of the prompt with prefill_then_greedy (FeedResult::cost)
  double first_token_time = -1;   // now_seconds() when the first token was chosen
  std::vector<double> decode_seconds;  // each decode step's forward time
};
// on_token (optional) sees each generated token with the row it was chosen from (tenx serve's
// log-probabilities), before the token is fed back.
Task<GreedyText> greedy_until(SequenceScheduler& s, int32_t seq, const Tokenizer& tok, std::vector<float> logits,
                              int64_t max_tokens, std::function<size_t(const std::string&)> cut,
                              std::function<void(std::span<const float> row, int32_t chosen)> on_token = {});

// The prompt fed to sequence seq (ids, and rows replacing embeddings as in feed()), then
// greedy_until from its last row: tenx run's generate items and agent turns, dev-eval.
Task<GreedyText> prefill_then_greedy(SequenceScheduler& s, int32_t seq, const Tokenizer& tok, std::vector<int32_t> ids,
                                     FeedRows rows, int64_t max_tokens,
                                     std::function<size_t(const std::string&)> cut);

// Where the earliest of `stops` begins in a text that grows between calls (npos: none yet),
// searching only where a new one can have appeared since the last call; empty stop strings never
// match. A `cut` for greedy_until (generate items, tenx serve's "stop").
class StopStrings {
 public:
  explicit StopStrings(std::vector<std::string> stops);
  size_t operator()(const std::string& text);

 private:
  std::vector<std::string> stops_;
  size_t longest_ = 0, searched_ = 0;
};

// Log-likelihood of each continuation after a context, the context run once: its last row gives
// each continuation's first token, then each continuation runs after the cached context (its
// rows 0..k-2 predict tokens 1..k-1) and is cut off again. cost: the feeds' and the log-softmaxes'.
struct ContinuationScores {
  std::vector<double> loglik;
  Counters cost;
  int64_t context_length = 0;  // positions of the context in the cache
};
Task<ContinuationScores> score_continuations(SequenceScheduler& s, int32_t seq, std::vector<int32_t> context,
                                             FeedRows rows,
                                             std::vector<std::vector<int32_t>> continuations);

// The workload of a llama-bench test on sequence 0, from an empty cache: a prefill
// of ids[0..n_prompt) (pp<n>), then n_gen greedy decode steps starting from
// ids[0] (tg<n>). `tenx bench` and benchmarks/e2e_bench.cpp both time this.
// The token ids such a test feeds: deterministic, independent of the
// vocabulary's content (llama-bench uses random tokens too).
std::vector<int32_t> bench_token_ids(int n, int64_t vocab);

void run_bench_workload(ExecContext& ctx, Decoder& dec, std::span<const int32_t> ids, int n_prompt, int n_gen);

}  // namespace tenx
