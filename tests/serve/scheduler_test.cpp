// The scheduler against the Decoder run directly on one sequence: echo log-probabilities, greedy
// continuations, stop strings, max_tokens 0, the queue, and results that do not depend on what a
// sequence was batched with. FLOPs: the per-request shares add up to what the kernels counted.
#include <gtest/gtest.h>

#include <thread>

#include "serve_fixture.hpp"
#include "tenx/model/analytic.hpp"
#include "tenx/ops/kernels.hpp"

namespace tenx::serve {
namespace {

using test::serve_model;

CompletionRequest request(std::vector<std::string> prompts, int64_t max_tokens, bool echo = false,
                          std::optional<int> logprobs = std::nullopt, std::vector<std::string> stop = {}) {
  CompletionRequest r;
  r.model = "m";
  r.prompts = std::move(prompts);
  r.max_tokens = max_tokens;
  r.echo = echo;
  r.logprobs = logprobs;
  r.stop = std::move(stop);
  return r;
}

SchedulerOptions options(int parallel, int64_t n_ctx = 128, int max_queue = 64) {
  SchedulerOptions o;
  o.threads = 1;
  o.parallel = parallel;
  o.n_ctx = n_ctx;
  o.max_queue = max_queue;
  o.max_batch = 64;
  return o;
}

SequenceResult run_one(Scheduler& s, const CompletionRequest& r) {
  auto v = s.submit(r).get();
  EXPECT_EQ(v.size(), 1u);
  return v.at(0);
}

TEST(ServeScheduler, EchoLogprobsEqualTheDecoderScoringTheText) {
  const auto& m = serve_model();
  Scheduler s(m.model, m.tokenizer, options(2));
  const std::string text = "Mary went to the kitchen. Then she went home.";
  const SequenceResult r = run_one(s, request({text}, 0, true, 1));
  const std::vector<int32_t> ids = test::oracle_prompt_ids(m.tokenizer, text);
  const std::vector<double> want = test::oracle_logprobs(m.model, ids);
  EXPECT_EQ(r.text, text);
  EXPECT_EQ(r.finish_reason, "length");
  EXPECT_EQ(r.prompt_tokens, static_cast<int64_t>(ids.size()));
  EXPECT_EQ(r.completion_tokens, 0);
  ASSERT_TRUE(r.has_logprobs);
  ASSERT_EQ(r.tokens.size(), ids.size());
  ASSERT_EQ(r.token_logprobs.size(), ids.size());
  EXPECT_FALSE(r.token_logprobs[0].has_value());  // the first token has no context
  EXPECT_FALSE(r.top_logprobs[0].has_value());
  std::string joined;
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(r.text_offset[i], static_cast<int64_t>(joined.size()));
    joined += r.tokens[i];
    if (i == 0) continue;
    ASSERT_TRUE(r.token_logprobs[i].has_value());
    EXPECT_NEAR(*r.token_logprobs[i], want[i], 1e-5) << "token " << i;
    // logprobs=1: the most likely token, plus the actual one when it is another.
    ASSERT_TRUE(r.top_logprobs[i].has_value());
    const auto& top = *r.top_logprobs[i];
    ASSERT_GE(top.size(), 1u);
    ASSERT_LE(top.size(), 2u);
    EXPECT_GE(top[0].second, *r.token_logprobs[i]);
  }
  EXPECT_EQ(joined, text);  // byte-level vocabulary: the pieces are the text

  // Compute: the prompt but its last token (logits each), one log-softmax per scored token,
  // counted by an independent run of the kernels.
  ExecContext ctx(1);
  Decoder dec(m.model, 128, 1, 64);
  const std::vector<int32_t> head(ids.begin(), ids.end() - 1);
  const auto rows = dec.eval(ctx, head, 0, true);
  std::vector<double> lp(static_cast<size_t>(m.model.config.n_vocab));
  for (size_t i = 0; i < head.size(); ++i)
    log_softmax(ctx, lp.data(), rows.data() + i * lp.size(), static_cast<int64_t>(lp.size()));
  EXPECT_EQ(r.flops, ctx.counters.total_flops());
}

TEST(ServeScheduler, GreedyCompletionEqualsGenerate) {
  const auto& m = serve_model();
  Scheduler s(m.model, m.tokenizer, options(3));
  for (const std::string text : {"Once upon a time", "The answer is", ""}) {
    const auto ids = test::oracle_prompt_ids(m.tokenizer, text);
    const auto want = test::oracle_greedy(m.model, m.tokenizer, ids, 12);
    const SequenceResult r = run_one(s, request({text}, 12, false, 2));
    EXPECT_EQ(r.text, test::pieces(m.tokenizer, want)) << text;
    EXPECT_EQ(r.completion_tokens, static_cast<int64_t>(want.size()));
    EXPECT_EQ(r.finish_reason, want.size() == 12 ? "length" : "stop");
    // Logprobs of the generated tokens: the oracle's log p of the same text.
    std::vector<int32_t> all = ids;
    all.insert(all.end(), want.begin(), want.end());
    const auto lp = test::oracle_logprobs(m.model, all);
    ASSERT_EQ(r.token_logprobs.size(), want.size());
    for (size_t k = 0; k < want.size(); ++k) {
      EXPECT_NEAR(*r.token_logprobs[k], lp[ids.size() + k], 1e-5);
      EXPECT_EQ(r.text_offset[k], static_cast<int64_t>(test::pieces(m.tokenizer, {want.begin(), want.begin() + static_cast<std::ptrdiff_t>(k)}).size()));
      // Greedy: the chosen token is the most likely one.
      EXPECT_NEAR(r.top_logprobs[k]->front().second, *r.token_logprobs[k], 1e-12);
    }
    // Echo: the prompt is in front, the prompt tokens' entries first.
    const SequenceResult e = run_one(s, request({text}, 12, true, 0));
    EXPECT_EQ(e.text, text + r.text);
    ASSERT_EQ(e.tokens.size(), ids.size() + want.size());
    EXPECT_EQ(e.text_offset[ids.size()], static_cast<int64_t>(text.size()));
    EXPECT_TRUE(e.top_logprobs.back()->size() == 1u);  // logprobs=0: the chosen token only
  }
}

TEST(ServeScheduler, StopStringsCutTheTextBeforeThem) {
  const auto& m = serve_model();
  Scheduler s(m.model, m.tokenizer, options(1));
  const std::string prompt = "A list of words:";
  const auto ids = test::oracle_prompt_ids(m.tokenizer, prompt);
  const std::string full = test::pieces(m.tokenizer, test::oracle_greedy(m.model, m.tokenizer, ids, 20));
  ASSERT_GE(full.size(), 8u);
  const std::string stop = full.substr(full.size() / 2, 2);
  const size_t at = full.find(stop);
  const SequenceResult r = run_one(s, request({prompt}, 20, false, 1, {"\x01never", stop}));
  EXPECT_EQ(r.text, full.substr(0, at));
  EXPECT_EQ(r.finish_reason, "stop");
  // Logprobs keep the tokens that start before the cut.
  int64_t starting_before = 0;
  for (int64_t off : r.text_offset) starting_before += off < static_cast<int64_t>(at) ? 1 : 0;
  EXPECT_EQ(starting_before, static_cast<int64_t>(r.tokens.size()));
  // No stop string present: unchanged.
  EXPECT_EQ(run_one(s, request({prompt}, 20, false, std::nullopt, {"\x01never"})).text, full);
}

TEST(ServeScheduler, MaxTokensZero) {
  const auto& m = serve_model();
  Scheduler s(m.model, m.tokenizer, options(1));
  const SequenceResult plain = run_one(s, request({"Hello there"}, 0));
  EXPECT_EQ(plain.text, "");
  EXPECT_EQ(plain.completion_tokens, 0);
  EXPECT_EQ(plain.flops, 0u);  // nothing was asked that needs the model
  EXPECT_FALSE(plain.has_logprobs);
  const SequenceResult echo = run_one(s, request({"Hello there"}, 0, true));
  EXPECT_EQ(echo.text, "Hello there");
  EXPECT_EQ(echo.finish_reason, "length");
  const SequenceResult only_bos = run_one(s, request({""}, 0, true, 3));
  ASSERT_EQ(only_bos.tokens.size(), 1u);
  EXPECT_FALSE(only_bos.token_logprobs[0].has_value());
}

TEST(ServeScheduler, ArrayPromptsGiveChoicesInOrder) {
  const auto& m = serve_model();
  Scheduler s(m.model, m.tokenizer, options(2));
  std::vector<std::string> prompts;
  for (int i = 0; i < 5; ++i) prompts.push_back(test::numbered_prompt(i));
  const auto all = s.submit(request(prompts, 6, true, 1)).get();
  ASSERT_EQ(all.size(), prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    const SequenceResult one = run_one(s, request({prompts[i]}, 6, true, 1));
    EXPECT_EQ(all[i].text, one.text);
    EXPECT_EQ(all[i].text.rfind(prompts[i], 0), 0u);
    EXPECT_EQ(all[i].flops, one.flops);
  }
}

TEST(ServeScheduler, ContextLimits) {
  const auto& m = serve_model();
  Scheduler s(m.model, m.tokenizer, options(1, 16));
  std::string long_prompt(40, 'x');
  long_prompt += " y z";
  try {
    s.submit(request({long_prompt}, 4));
    ADD_FAILURE() << "a prompt longer than the context was accepted";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 400);
    EXPECT_EQ(e.code(), "context_length_exceeded");
  }
  // A prompt of 10 tokens in a 16-token slot: at most 16 - 10 + 1 tokens come out.
  const std::string ten = "abcdefghi";  // byte tokens after BOS (merges permitting)
  const auto ids = test::oracle_prompt_ids(m.tokenizer, ten);
  ASSERT_LE(ids.size(), 16u);
  const SequenceResult r = run_one(s, request({ten}, 100));
  const int64_t room = 16 - static_cast<int64_t>(ids.size()) + 1;
  EXPECT_LE(r.completion_tokens, room);
  if (r.finish_reason == "length") {
    EXPECT_EQ(r.completion_tokens, room);
  }
}

TEST(ServeScheduler, FullQueueRejectsAndShutdownFailsTheWaiting) {
  const auto& m = serve_model();
  Scheduler s(m.model, m.tokenizer, options(1, 64, 2));
  s.set_paused(true);  // no admission: the queue fills deterministically
  auto a = s.submit(request({"one"}, 2));
  auto b = s.submit(request({"two", "three"}, 2));
  EXPECT_EQ(s.stats().waiting_requests, 2u);
  try {
    s.submit(request({"four"}, 2));
    ADD_FAILURE() << "the third request was queued";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 429);
  }
  s.set_paused(false);
  EXPECT_EQ(a.get().size(), 1u);
  EXPECT_EQ(b.get().size(), 2u);
  s.set_paused(true);
  auto c = s.submit(request({"five"}, 2));
  s.shutdown();
  try {
    c.get();
    ADD_FAILURE() << "a waiting request survived shutdown";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 503);
  }
  EXPECT_THROW(s.submit(request({"six"}, 2)), ApiError);
}

TEST(ServeScheduler, ShutdownFinishesRunningSequences) {
  const auto& m = serve_model();
  const auto ids = test::oracle_prompt_ids(m.tokenizer, "Running when stopped");
  const auto want = test::oracle_greedy(m.model, m.tokenizer, ids, 24);
  Scheduler s(m.model, m.tokenizer, options(2));
  auto running = s.submit(request({"Running when stopped"}, 24));
  while (s.stats().waiting_requests > 0) std::this_thread::yield();  // it has a slot now
  s.shutdown();
  const auto r = running.get();  // answered in full, not failed
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].text, test::pieces(m.tokenizer, want));
}

// 16 concurrent callers over 4 slots: every result equals the same prompt run alone (1 slot),
// and the FLOPs handed out add up exactly to what the kernels counted.
TEST(ServeScheduler, BatchedResultsEqualSequentialOnes) {
  const auto& m = serve_model();
  const int n = 16;
  std::vector<SequenceResult> alone(n), batched(n);
  {
    Scheduler s(m.model, m.tokenizer, options(1));
    for (int i = 0; i < n; ++i) alone[i] = run_one(s, request({test::numbered_prompt(i)}, 3 + i % 5, true, 2));
  }
  Scheduler s(m.model, m.tokenizer, options(4));
  s.set_paused(true);  // all queued before the first admission: the first batch holds 4 sequences
  std::vector<std::future<std::vector<SequenceResult>>> futures(n);
  std::vector<std::thread> callers;
  for (int i = 0; i < n; ++i)
    callers.emplace_back([&, i] { futures[i] = s.submit(request({test::numbered_prompt(i)}, 3 + i % 5, true, 2)); });
  for (auto& t : callers) t.join();
  s.set_paused(false);
  for (int i = 0; i < n; ++i) batched[i] = futures[i].get().at(0);
  for (int i = 0; i < n; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(batched[i].text, alone[i].text);
    EXPECT_EQ(batched[i].tokens, alone[i].tokens);
    EXPECT_EQ(batched[i].flops, alone[i].flops);
    ASSERT_EQ(batched[i].token_logprobs.size(), alone[i].token_logprobs.size());
    for (size_t k = 1; k < alone[i].token_logprobs.size(); ++k)
      EXPECT_EQ(*batched[i].token_logprobs[k], *alone[i].token_logprobs[k]);  // batch invariant (float weights)
  }
  const SchedulerStats st = s.stats();
  EXPECT_EQ(st.max_sequences_in_batch, 4u);
  EXPECT_EQ(st.requests, static_cast<uint64_t>(n));
  EXPECT_EQ(st.attributed_flops, st.counted_flops);  // counted == analytic, per sequence, exactly
}

}  // namespace
}  // namespace tenx::serve
