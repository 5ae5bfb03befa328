#pragma once
// Scoring (per-token log-probabilities) and generation (greedy or sampled) on top
// of the decoder, with the timings and counters a report needs.
#include <cstdint>
#include <functional>
#include <span>
#include <utility>
#include <vector>

#include "tenx/model/decoder.hpp"

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

// The workload of a llama-bench test on sequence 0, from an empty cache: a prefill
// of ids[0..n_prompt) (pp<n>), then n_gen greedy decode steps starting from
// ids[0] (tg<n>). `tenx bench` and benchmarks/e2e_bench.cpp both time this.
// The token ids such a test feeds: deterministic, independent of the
// vocabulary's content (llama-bench uses random tokens too).
std::vector<int32_t> bench_token_ids(int n, int64_t vocab);

void run_bench_workload(ExecContext& ctx, Decoder& dec, std::span<const int32_t> ids, int n_prompt, int n_gen);

}  // namespace tenx
