// run_item over the ItemSession seam (item_session.hpp) with a scripted session: what each item
// type means (which question and continuations are asked, where the output is cut, how the answer
// is scored) against records worked out by hand from the script, independent of any model.
#include <gtest/gtest.h>

#include <map>

#include "tenx/eval/run/item_session.hpp"
#include "tenx/suites/answer.hpp"

namespace tenx::eval {
namespace {

// A "model" whose answers are written in the test: log-likelihoods per continuation text, one
// generation text, one agent outcome. It logs what it was asked.
class ScriptedSession : public ItemSession {
 public:
  std::map<std::string, double> loglik;  // continuation -> log-likelihood
  std::string generation;                 // what greedy decoding writes
  std::string generation_end = "stop";
  AgentOutcome outcome;
  bool fits = true;          // false: every question is longer than the context
  bool sees_images = false;
  std::vector<std::string> asked;  // "kind: question" per call
  int finished = 0;

  bool admit(const suites::Item& item, ItemRecord& r) override {
    if (item.image && !sees_images) {
      r.applicable = false;
      return false;
    }
    return true;
  }
  Task<std::optional<ScoredContinuations>> continuations(const suites::Item&, const std::string& question,
                                                         const std::vector<std::string>& continuations,
                                                         ItemRecord& r) override {
    asked.push_back("choices: " + question);
    if (!fits) {
      r.error = "context";
      co_return std::nullopt;
    }
    ScoredContinuations out;
    for (const std::string& c : continuations) {
      out.loglik.push_back(loglik.at(c));
      out.bytes.push_back(static_cast<int64_t>(c.size()));
    }
    co_return out;
  }
  Task<std::optional<Generation>> generate(const suites::Item&, const std::string& question, int64_t max_tokens,
                                           const std::vector<std::string>& stop, ItemRecord& r) override {
    asked.push_back("generate: " + question + " max " + std::to_string(max_tokens) + " stops " +
                    std::to_string(stop.size()));
    if (!fits) {
      r.error = "context";
      co_return std::nullopt;
    }
    co_return Generation{generation, 7, generation_end};
  }
  Task<std::optional<AgentOutcome>> agent(const suites::Item& item, ItemRecord&) override {
    asked.push_back("agent: " + item.agent().instruction);
    co_return outcome;
  }
  void finish(ItemRecord& r) override {
    ++finished;
    r.flops = 1000;
  }
};

suites::Item choice(std::vector<std::string> choices, int gold) {
  suites::Item item;
  item.id = "c1";
  item.task = "t";
  item.body = suites::ChoiceBody{"Q: which? A:", std::move(choices), gold};
  return item;
}

TEST(ItemSession, ChoiceItemsPickTheHighestSumAndTheHighestPerByte) {
  ScriptedSession s;
  // " aa": -2.0 over 3 bytes (-0.667/byte); " b": -1.5 over 2 bytes (-0.75/byte).
  s.loglik = {{" aa", -2.0}, {" b", -1.5}};
  ItemRecord r;
  run_to_end(run_item(s, choice({" aa", " b"}, 0), ChoiceMethod::loglik, Protocol::completion, r));
  EXPECT_EQ(s.asked, std::vector<std::string>{"choices: Q: which? A:"});
  EXPECT_EQ(r.item, "c1");
  EXPECT_EQ(r.type, "choice");
  EXPECT_EQ(r.gold, 0);
  EXPECT_EQ(r.predicted, 1);       // -1.5 > -2.0
  EXPECT_FALSE(r.correct);
  EXPECT_TRUE(r.correct_norm);     // -0.667 > -0.75 per byte
  EXPECT_EQ(r.score, 0.0);
  EXPECT_EQ(r.choice_bytes, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(r.flops, 1000u);
  EXPECT_EQ(s.finished, 1);
}

TEST(ItemSession, GenerateItemsAreCutAtTheFirstStopAndMatchedByTheirRule) {
  ScriptedSession s;
  s.generation = " 42\nQ: next";
  suites::Item item;
  item.id = "g1";
  item.task = "t";
  suites::GenerateBody body;
  body.prompt = "Q: 6*7? A:";
  body.targets = {"42"};
  body.stop = {"\n"};
  body.max_tokens = 5;
  body.match = suites::MatchKind::numeric;
  item.body = body;
  ItemRecord r;
  run_to_end(run_item(s, item, ChoiceMethod::loglik, Protocol::completion, r));
  EXPECT_EQ(s.asked, std::vector<std::string>{"generate: Q: 6*7? A: max 5 stops 1"});
  EXPECT_EQ(r.output, " 42");
  EXPECT_EQ(r.stop_reason, "stop");
  EXPECT_EQ(r.tokens_out, 7);
  EXPECT_TRUE(r.correct);
  EXPECT_EQ(r.score, 1.0);
}

TEST(ItemSession, LetterChoiceAsksTheLetteredQuestionAndScoresTheLetter) {
  ScriptedSession s;
  s.generation = "The answer is (B).";
  ItemRecord r;
  run_to_end(run_item(s, choice({" yes", " no"}, 1), ChoiceMethod::letter, Protocol::completion, r));
  ASSERT_EQ(s.asked.size(), 1u);
  EXPECT_EQ(s.asked[0].rfind("generate: Q: which? A:\nA. yes\nB. no\n", 0), 0u) << s.asked[0];
  EXPECT_EQ(r.type, "choice");
  EXPECT_EQ(r.choice_method, "letter");
  EXPECT_EQ(r.predicted, 1);
  EXPECT_TRUE(r.correct);
  EXPECT_EQ(r.score, 1.0);
}

TEST(ItemSession, WhatTheSessionRefusesEndsTheItemWithItsReason) {
  ScriptedSession s;
  s.fits = false;
  ItemRecord r;
  run_to_end(run_item(s, choice({" a", " b"}, 0), ChoiceMethod::loglik, Protocol::completion, r));
  EXPECT_EQ(r.error, "context");
  EXPECT_TRUE(r.loglik.empty());
  EXPECT_FALSE(r.correct);
  EXPECT_EQ(s.finished, 1);  // what it spent is still counted

  suites::Item image = choice({" a", " b"}, 0);
  image.image = suites::Image{};
  ItemRecord na;
  ScriptedSession blind;
  run_to_end(run_item(blind, image, ChoiceMethod::loglik, Protocol::completion, na));
  EXPECT_FALSE(na.applicable);
  EXPECT_TRUE(blind.asked.empty());
  EXPECT_EQ(blind.finished, 0);
  EXPECT_EQ(na.flops, 0u);
}

TEST(ItemSession, AgentItemsRecordTheEpisode) {
  ScriptedSession s;
  s.outcome.transcript = "<answer>7</answer>";
  s.outcome.answer = "7";
  s.outcome.steps = 2;
  s.outcome.calls = 1;
  s.outcome.valid_calls = 1;
  s.outcome.success = true;
  s.outcome.stop_reason = "answer";
  s.outcome.tokens_out = 11;
  suites::Item item;
  item.id = "a1";
  item.task = "t";
  suites::AgentBody body;
  body.instruction = "Find the count.";
  item.body = body;
  ItemRecord r;
  run_to_end(run_item(s, item, ChoiceMethod::loglik, Protocol::completion, r));
  EXPECT_EQ(s.asked, std::vector<std::string>{"agent: Find the count."});
  EXPECT_EQ(r.type, "agent");
  EXPECT_EQ(r.output, "<answer>7</answer>");
  EXPECT_EQ(r.steps, 2);
  EXPECT_EQ(r.stop_reason, "answer");
  EXPECT_EQ(r.tokens_out, 11);
  EXPECT_TRUE(r.correct);
  EXPECT_EQ(r.score, 1.0);
}

TEST(ItemTypes, EachBodyNamesItsTypeMetricAndQuestion) {
  EXPECT_STREQ(suites::item_type_name(suites::ItemType::choice), "choice");
  EXPECT_STREQ(suites::item_type_name(suites::ItemType::agent), "agent");
  EXPECT_EQ(suites::parse_item_type("generate"), suites::ItemType::generate);
  EXPECT_EQ(suites::parse_item_type("cloze"), std::nullopt);
  EXPECT_STREQ(suites::item_type_metric(suites::ItemType::choice), "acc");
  EXPECT_STREQ(suites::item_type_metric(suites::ItemType::generate), "exact_match");
  EXPECT_STREQ(suites::item_type_metric(suites::ItemType::agent), "success");
  const suites::Item c = choice({" a"}, 0);
  EXPECT_EQ(c.question(), "Q: which? A:");
  EXPECT_STREQ(c.question_field(), "context");
}

}  // namespace
}  // namespace tenx::eval
