// The lettered multiple-choice fallback (choice_letter.hpp, docs/protocols.md): the prompt's exact
// text, the letter read from a reply (hand-written replies, the expected letter by the rule's
// words), the record it makes, lettered worked examples, and a change of method refused by
// verify, merge and --resume like any other protocol field.
#include <gtest/gtest.h>

#include "runner_fixtures.hpp"
#include "tenx/eval/run/choice_letter.hpp"
#include "tenx/eval/run/merge.hpp"
#include "tenx/eval/run/runner.hpp"
#include "tenx/suites/suite_io.hpp"
#include "tenx/util/error.hpp"

namespace tenx::eval {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

suites::Item choice_item(const std::string& id, const std::string& context, std::vector<std::string> choices, int gold) {
  suites::Item item;
  item.id = id;
  item.task = "diagnosis";
  suites::ChoiceBody body;
  body.context = context;
  body.choices = std::move(choices);
  body.gold = gold;
  item.body = std::move(body);
  return item;
}

TEST(ChoiceLetter, PromptListsTheChoicesUnderTheContextWithOneInstruction) {
  const suites::Item item = choice_item("d0", "Q: Benign or malignant? A:", {" benign", " malignant"}, 1);
  EXPECT_EQ(lettered_question(item),
            "Q: Benign or malignant? A:\nA. benign\nB. malignant\nAnswer with the letter of the correct choice.");
  const suites::Item chat = lettered_item(item, Protocol::chat);
  ASSERT_EQ(chat.type(), suites::ItemType::generate);
  EXPECT_EQ(chat.id, "d0");
  EXPECT_EQ(chat.task, "diagnosis");
  EXPECT_EQ(chat.generate().prompt, lettered_question(item));
  EXPECT_EQ(chat.generate().targets, std::vector<std::string>{" B"});
  EXPECT_TRUE(chat.generate().stop.empty());
  EXPECT_EQ(chat.generate().max_tokens, 16);
  EXPECT_EQ(lettered_item(item, Protocol::completion).generate().prompt, lettered_question(item) + "\nAnswer:");
  std::vector<std::string> many(27, " x");
  EXPECT_THROW(lettered_question(choice_item("big", "Q", many, 0)), Error);
}

TEST(ChoiceLetter, TheLetterIsReadAfterTheReasoningAndMustNameAChoice) {
  EXPECT_EQ(reply_choice("B", 2), 1);
  EXPECT_EQ(reply_choice(" A", 2), 0);
  EXPECT_EQ(reply_choice("B. malignant", 2), 1);
  EXPECT_EQ(reply_choice("(B)", 2), 1);
  EXPECT_EQ(reply_choice("The answer is (A).", 2), 0);
  EXPECT_EQ(reply_choice("Answer: B", 2), 1);
  EXPECT_EQ(reply_choice("A tumour this large is B", 2), 1) << "the article 'A' before a word is not a letter";
  EXPECT_EQ(reply_choice("<think>A looks wrong, so not A</think>\nB", 2), 1) << "reasoning is dropped first";
  EXPECT_EQ(reply_choice("<think>B? never closed", 2), std::nullopt) << "an unclosed block is all reasoning";
  EXPECT_EQ(reply_choice("C", 2), std::nullopt) << "past the last choice";
  EXPECT_EQ(reply_choice("C", 3), 2);
  EXPECT_EQ(reply_choice("malignant", 2), std::nullopt) << "no letter";
  EXPECT_EQ(reply_choice("", 2), std::nullopt);
  EXPECT_EQ(reply_choice("BA", 2), std::nullopt) << "a letter glued to another is a word";
}

TEST(ChoiceLetter, TheRecordSaysHowItWasScored) {
  const suites::Item item = choice_item("d0", "Q:", {" benign", " malignant"}, 1);
  ItemRecord r;
  r.type = "choice";
  r.output = "The answer is B.";
  score_letter_reply(r, item.choice());
  EXPECT_EQ(r.choice_method, "letter");
  EXPECT_EQ(r.extracted, std::optional<std::string>("B"));
  EXPECT_EQ(r.predicted, 1);
  EXPECT_EQ(r.gold, 1);
  EXPECT_TRUE(r.correct);
  EXPECT_TRUE(r.correct_norm);
  const Json j = to_json(r);
  EXPECT_EQ(j["choice_method"], "letter");
  EXPECT_EQ(j["extracted"], "B");
  const ItemRecord back = item_record_from_json(j, "test");
  EXPECT_EQ(back.choice_method, "letter");
  EXPECT_EQ(back.extracted, std::optional<std::string>("B"));
  r.output = "I cannot tell.";
  score_letter_reply(r, item.choice());
  EXPECT_EQ(r.extracted, std::nullopt);
  EXPECT_EQ(r.predicted, -1);
  EXPECT_FALSE(r.correct);
  EXPECT_TRUE(to_json(r)["extracted"].is_null());
  ItemRecord loglik;  // a log-likelihood record carries neither field, as before the fallback
  loglik.type = "choice";
  EXPECT_FALSE(to_json(loglik).contains("choice_method"));
  EXPECT_FALSE(to_json(loglik).contains("extracted"));
  EXPECT_EQ(parse_choice_method("letter", "--choice-method"), ChoiceMethod::letter);
  EXPECT_THROW(parse_choice_method("logprob", "--choice-method"), Error);
}

TEST(ChoiceLetter, WorkedExamplesAreLetteredToo) {
  std::vector<suites::Item> train = {choice_item("t0", "Q0", {" yes", " no"}, 1), choice_item("t1", "Q1", {" yes", " no"}, 0)};
  suites::Item gen;
  gen.id = "g0";
  gen.task = "sum";
  suites::GenerateBody g;
  g.prompt = "1+1=";
  g.targets = {"2"};
  gen.body = g;
  const ShotTable shots = {{"diagnosis", {&train[0], &train[1]}}, {"sum", {&gen}}};
  LetteredShots lettered;
  make_lettered_shots(shots, Protocol::chat, lettered);
  ASSERT_EQ(lettered.table.at("diagnosis").size(), 2u);
  EXPECT_EQ(lettered.table.at("sum"), std::vector<const suites::Item*>{&gen}) << "generate examples stay as they are";
  const nlohmann::ordered_json m = chat_messages(lettered.table.at("diagnosis"), "next");
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(m[0]["content"], "Q0\nA. yes\nB. no\nAnswer with the letter of the correct choice.");
  EXPECT_EQ(m[1]["content"], "B");
  EXPECT_EQ(m[3]["content"], "A");
  make_lettered_shots(shots, Protocol::completion, lettered);
  EXPECT_EQ(completion_prefix(lettered.table.at("diagnosis")),
            "Q0\nA. yes\nB. no\nAnswer with the letter of the correct choice.\nAnswer: B\n\n"
            "Q1\nA. yes\nB. no\nAnswer with the letter of the correct choice.\nAnswer: A\n\n");
}

TEST(ChoiceLetter, VerifyRefusesLoglikAgainstLetter) {
  RunManifest m;
  ModelInfo a, b;
  a.name = "base", b.name = "cand";
  a.choice_method = "loglik";
  b.choice_method = "letter";
  m.models = {a, b};
  const std::string why = protocol_mismatch(m, "base", {"cand"});
  EXPECT_NE(why.find("'base' scored choice items by loglik, the candidate 'cand' by letter"), std::string::npos) << why;
  m.models[1].choice_method = "";  // a run before the fallback: log-likelihood
  EXPECT_EQ(protocol_mismatch(m, "base", {"cand"}), "");
}

// A local run under --choice-method letter on a random model: every choice record is lettered,
// its prediction the letter its reply names; --resume and merge refuse another method.
TEST(ChoiceLetter, LocalRunsLetterAndRefusesAnotherMethodOnResumeAndMerge) {
  TempDir dir;
  const std::string model = testing::write_model(dir, "m", 3, 1024).string();
  RunOptions o;
  o.models = {{"m", model}};
  o.suites = {"health"};
  o.limit = 6;
  o.seed = 1;
  o.quiet = true;
  o.choice_method = "letter";
  o.out_dir = dir / "letter";
  const RunResult run = run_evaluation(o);
  EXPECT_EQ(run.manifest.models[0].choice_method, "letter");
  EXPECT_EQ(run.manifest.choice_method_option, "letter");
  const suites::Suite health = suites::load_suite(fs::path(TENX_TEST_DATA_DIR).parent_path() / "data/suites/health");
  std::map<std::string, const suites::Item*> by_id;
  for (const suites::Item& it : health.split("test")) by_id[it.id] = &it;
  int lettered = 0;
  for (const ItemRecord& r : run.records) {
    if (r.type != "choice") {
      EXPECT_EQ(r.choice_method, "");
      continue;
    }
    ++lettered;
    EXPECT_EQ(r.choice_method, "letter");
    EXPECT_TRUE(r.loglik.empty());
    EXPECT_GT(r.tokens_out, 0);
    EXPECT_EQ(r.flops_naive, r.flops);
    const suites::ChoiceBody& body = by_id.at(r.item)->choice();
    EXPECT_EQ(r.gold, body.gold);
    const std::optional<int> named = reply_choice(r.output, body.choices.size());
    EXPECT_EQ(r.predicted, named.value_or(-1)) << r.output;
    EXPECT_EQ(r.correct, named == body.gold) << r.output;
  }
  EXPECT_GT(lettered, 0);
  RunOptions resume = o;
  resume.resume = true;
  resume.choice_method = "loglik";
  try {
    run_evaluation(resume);
    ADD_FAILURE() << "resume with another choice method was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--choice-method letter, the arguments give loglik"), std::string::npos)
        << e.what();
  }
  RunOptions s1 = o, s2 = o;
  s1.shard_index = 1, s1.shard_count = 2, s1.out_dir = dir / "s1";
  s2.choice_method = "", s2.shard_index = 2, s2.shard_count = 2, s2.out_dir = dir / "s2";
  run_evaluation(s1);
  run_evaluation(s2);
  try {
    merge_shards({{dir / "s1", read_run(dir / "s1")}, {dir / "s2", read_run(dir / "s2")}}, dir / "merged");
    ADD_FAILURE() << "shards under different choice methods were merged";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the choice method (--choice-method) differs"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tenx::eval
