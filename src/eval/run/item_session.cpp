// run_item: what each item type means, once for every backend (item_session.hpp). A new item type
// is its body (suites/suite.hpp), its JSON (suites/item_json.cpp) and its case here.
#include <limits>

#include "tenx/eval/run/item_session.hpp"
#include "tenx/suites/answer.hpp"
#include "runner_internal.hpp"

namespace tenx::eval {
namespace {

// Choice items by log-likelihood: the choice with the highest sum (and, for correct_norm, per
// byte) after the context, as lm-evaluation-harness's acc and acc_norm.
Task<void> score_choice(ItemSession& s, const suites::Item& item, ItemRecord& r) {
  const suites::ChoiceBody& body = item.choice();
  r.gold = body.gold;
  std::optional<ScoredContinuations> scores = co_await s.continuations(item, body.context, body.choices, r);
  if (!scores) co_return;
  r.loglik = std::move(scores->loglik);
  r.choice_bytes = std::move(scores->bytes);
  detail::score_choices(r, body.gold);
}

// Generate items: greedy until a stop string, the output cut at the first one, then the suite's
// answer rule.
Task<void> score_generate(ItemSession& s, const suites::Item& item, ItemRecord& r) {
  const suites::GenerateBody& body = item.generate();
  std::optional<Generation> g = co_await s.generate(item, body.prompt, std::max(body.max_tokens, 0), body.stop, r);
  if (!g) co_return;
  r.tokens_out = g->tokens;
  r.output = suites::cut_at_stop(g->text, body.stop);
  r.stop_reason = g->stop_reason;
  r.extracted = suites::extracted_answer(body, r.output);
  r.correct = suites::generate_matches(body, r.output);
}

// The lettered fallback (choice_letter.hpp): the item as its lettered generate item, the reply
// scored as a choice.
Task<void> score_letter_choice(ItemSession& s, const suites::Item& item, Protocol protocol, ItemRecord& r) {
  const suites::Item lettered = lettered_item(item, protocol);
  co_await score_generate(s, lettered, r);
  score_letter_reply(r, item.choice());
}

Task<void> score_agent(ItemSession& s, const suites::Item& item, ItemRecord& r) {
  std::optional<AgentOutcome> o = co_await s.agent(item, r);
  if (o) detail::record_agent_outcome(r, *o);
}

Task<void> score(ItemSession& s, const suites::Item& item, ChoiceMethod choice_method, Protocol protocol,
                 ItemRecord& r) {
  switch (item.type()) {
    case suites::ItemType::choice:
      if (choice_method == ChoiceMethod::letter) co_await score_letter_choice(s, item, protocol, r);
      else co_await score_choice(s, item, r);
      break;
    case suites::ItemType::generate: co_await score_generate(s, item, r); break;
    case suites::ItemType::agent: co_await score_agent(s, item, r); break;
  }
}

}  // namespace

Task<void> run_item(ItemSession& session, const suites::Item& item, ChoiceMethod choice_method, Protocol protocol,
                    ItemRecord& r) {
  r.item = item.id;
  r.task = item.task;
  r.type = suites::item_type_name(item.type());
  if (!session.admit(item, r)) co_return;
  try {
    co_await score(session, item, choice_method, protocol, r);
  } catch (...) {
    session.finish(r);  // what it spent so far is still the item's (the caller records the error)
    throw;
  }
  session.finish(r);
  r.score = r.correct ? 1.0 : 0.0;
}

namespace detail {

void score_choices(ItemRecord& r, int gold) {
  auto best = [&](bool per_byte) {
    int arg = 0;
    double top = -std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < r.loglik.size(); ++i) {
      const double v = per_byte && r.choice_bytes[i] > 0 ? r.loglik[i] / static_cast<double>(r.choice_bytes[i])
                                                         : r.loglik[i];
      if (v > top) top = v, arg = static_cast<int>(i);
    }
    return arg;
  };
  r.predicted = best(false);
  r.correct = r.predicted == gold;
  r.correct_norm = best(true) == gold;
}

void record_agent_outcome(ItemRecord& r, const AgentOutcome& o) {
  r.output = o.transcript;
  r.steps = o.steps;
  r.calls = o.calls;
  r.valid_calls = o.valid_calls;
  r.call_match = o.call_match;
  r.stop_reason = o.stop_reason;
  r.failure = o.failure;
  r.tokens_out = o.tokens_out;
  r.correct = o.success;
}

}  // namespace detail
}  // namespace tenx::eval
