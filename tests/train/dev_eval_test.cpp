// Dev answer accuracy (dev_eval.hpp) on a tiny model trained in-test: every item's verdict equals
// an independent computation (choice: score_tokens on the whole [bos] context choice sequence from
// an empty cache; generate: tenx::generate + suites::generate_matches), the training log carries
// dev_accuracy at the eval cadence, and results are deterministic across runs and thread counts.
#include <cmath>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "tenx/model/decoder.hpp"
#include "tenx/model/generation.hpp"
#include "tenx/model/model.hpp"
#include "tenx/suites/answer.hpp"
#include "tenx/train/data.hpp"
#include "tenx/train/dev_eval.hpp"
#include "tenx/train/recipe.hpp"
#include "tenx/train/trainer.hpp"

namespace tenx::train {
namespace {

namespace fs = std::filesystem;

const fs::path kDevEvalSuites = fs::path(TENX_TEST_DATA_DIR) / ".." / "data" / "suites";
constexpr int64_t kPerTask = 6;

class DevEval : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!fs::exists(kDevEvalSuites / "reasoning" / "suite.json")) return;
    dir_ = fs::temp_directory_path() / fmt::format("tenx-dev-eval-{}", ::getpid());
    fs::create_directories(dir_);
    const std::string json = fmt::format(R"({{
      "name": "dev-eval", "seed": 11,
      "model": {{"dim": 32, "layers": 2, "heads": 4, "kv_heads": 2, "ffn": 64, "vocab": 300, "ctx": 160}},
      "data": {{"suites": [{{"suite": "reasoning", "tasks": ["arith_add_2digit", "babi_yes_no", "table_compare"]}}],
                "dev_fraction": 0.02, "mask": "answer"}},
      "optimizer": {{"lr": 0.01, "warmup": 3, "steps": 20, "batch": 4, "seq_len": 160}},
      "eval": {{"every": 10, "batches": 1, "dev_items_per_task": {0}}},
      "output": "{1}"
    }})", kPerTask, (dir_ / "dev-eval.gguf").string());
    recipe_ = new Recipe(parse_recipe(json, "dev-eval.json"));
    TrainOptions o;
    o.threads = 2;
    o.suites_dir = kDevEvalSuites;
    result_ = new TrainResult(run_training(*recipe_, o));
  }
  static void TearDownTestSuite() {
    delete recipe_;
    delete result_;
    recipe_ = nullptr;
    result_ = nullptr;
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  void SetUp() override {
    if (!recipe_) GTEST_SKIP() << "no shipped suites at " << kDevEvalSuites;
  }

  static inline fs::path dir_;
  static inline Recipe* recipe_ = nullptr;
  static inline TrainResult* result_ = nullptr;
};

std::vector<int32_t> with_bos(const Tokenizer& tok, const std::string& text) {
  std::vector<int32_t> ids{tok.bos_id() >= 0 ? tok.bos_id() : tok.eos_id()};
  for (int32_t id : tok.encode(text, false, false)) ids.push_back(id);
  return ids;
}

// Choice, independently: each full sequence scored from an empty cache.
bool choice_oracle(ExecContext& ctx, const Model& m, const Tokenizer& tok, const suites::ChoiceBody& c) {
  int best = -1;
  double best_ll = 0;
  for (size_t k = 0; k < c.choices.size(); ++k) {
    std::vector<int32_t> ids = with_bos(tok, c.context);
    const size_t n_ctx = ids.size();
    for (int32_t id : tok.encode(c.choices[k], false, false)) ids.push_back(id);
    Decoder dec(m, static_cast<int64_t>(ids.size()), 1, 512);
    const std::vector<TokenLogprob> lp = score_tokens(ctx, dec, ids);
    double ll = 0;
    for (size_t i = n_ctx; i < ids.size(); ++i) ll += lp[i].logprob;
    if (best < 0 || ll > best_ll) best = static_cast<int>(k), best_ll = ll;
  }
  return best == c.gold;
}

// Generate, independently: tenx::generate stopping on a stop string, then the suite's matching.
bool generate_oracle(ExecContext& ctx, const Model& m, const Tokenizer& tok, const suites::GenerateBody& g) {
  const std::vector<int32_t> prompt = with_bos(tok, g.prompt);
  Decoder dec(m, static_cast<int64_t>(prompt.size()) + g.max_tokens, 1, 512);
  Sampler s(SamplerOptions{});
  const GenerationResult r = generate(ctx, dec, prompt, g.max_tokens, s, tok.eos_id(), [&](const std::vector<int32_t>& out) {
    const std::string t = tok.decode(out);
    for (const std::string& stop : g.stop)
      if (t.find(stop) != std::string::npos) return true;
    return false;
  });
  std::vector<int32_t> out = r.tokens;
  if (!out.empty() && out.back() == tok.eos_id()) out.pop_back();
  return suites::generate_matches(g, tok.decode(out));
}

TEST_F(DevEval, VerdictsMatchIndependentScoringAndGeneration) {
  const Model m = Model::load(recipe_->output);
  const Tokenizer tok = Tokenizer::from_metadata(m.file.meta, "model");
  const std::vector<SuiteTexts> texts = load_suite_texts(*recipe_, kDevEvalSuites);
  ExecContext ctx(1);
  std::map<std::string, std::pair<int64_t, int64_t>> oracle;  // task -> (items, correct)
  int n_choice = 0, n_generate = 0;
  for (const suites::Item* item : dev_items_of(texts.at(0), kPerTask)) {
    const bool ours = dev_item_correct(ctx, m, tok, nullptr, *item);
    const bool theirs = item->type() == suites::ItemType::choice ? choice_oracle(ctx, m, tok, item->choice())
                                                                 : generate_oracle(ctx, m, tok, item->generate());
    EXPECT_EQ(ours, theirs) << item->id;
    (item->type() == suites::ItemType::choice ? n_choice : n_generate)++;
    auto& [n, c] = oracle[item->task];
    ++n;
    c += theirs ? 1 : 0;
  }
  EXPECT_EQ(n_choice, 2 * kPerTask);
  EXPECT_EQ(n_generate, kPerTask);
  const std::vector<DevTaskAccuracy> res = evaluate_dev(ctx, m, nullptr, texts, kPerTask);
  ASSERT_EQ(res.size(), 3u);
  for (const DevTaskAccuracy& t : res) {
    EXPECT_EQ(t.suite, "reasoning");
    EXPECT_EQ(t.items, oracle.at(t.task).first) << t.task;
    EXPECT_EQ(t.correct, oracle.at(t.task).second) << t.task;
  }
  // suite.json's chance is carried along (babi_yes_no: two choices).
  for (const DevTaskAccuracy& t : res) {
    if (t.task == "babi_yes_no") {
      EXPECT_DOUBLE_EQ(t.chance, 0.5);
    }
  }
}

TEST_F(DevEval, TrainingLogCarriesDevAccuracyAtTheEvalCadence) {
  std::ifstream in(recipe_->log_path());
  std::vector<nlohmann::json> with;
  for (std::string line; std::getline(in, line);) {
    const nlohmann::json j = nlohmann::json::parse(line);
    if (j.contains("dev_accuracy")) with.push_back(j);
  }
  ASSERT_EQ(with.size(), 2u);  // steps 10 and 20
  EXPECT_EQ(with[0]["step"], 10);
  EXPECT_EQ(with[1]["step"], 20);
  const nlohmann::json& last = with[1]["dev_accuracy"];
  ASSERT_EQ(last.size(), 3u);
  ASSERT_EQ(result_->dev_accuracy.size(), 3u);
  for (const DevTaskAccuracy& t : result_->dev_accuracy)
    EXPECT_DOUBLE_EQ(last.at(t.key()).get<double>(), t.accuracy()) << t.key();
  // The final weights (the written model) give the same figures as the trainer's temporary export.
  const Model m = Model::load(recipe_->output);
  ExecContext ctx(2);
  const auto again = evaluate_dev(ctx, m, nullptr, load_suite_texts(*recipe_, kDevEvalSuites), kPerTask);
  for (size_t i = 0; i < again.size(); ++i) EXPECT_EQ(again[i].correct, result_->dev_accuracy[i].correct);
  // The temporary export is gone.
  EXPECT_FALSE(fs::exists(recipe_->output + ".dev-eval.tmp.gguf"));
}

TEST_F(DevEval, DeterministicAcrossRunsAndThreads) {
  const Model m = Model::load(recipe_->output);
  const std::vector<SuiteTexts> texts = load_suite_texts(*recipe_, kDevEvalSuites);
  ExecContext one(1), two(2);
  const auto a = evaluate_dev(one, m, nullptr, texts, kPerTask);
  const auto b = evaluate_dev(one, m, nullptr, texts, kPerTask);
  const auto c = evaluate_dev(two, m, nullptr, texts, kPerTask);
  ASSERT_EQ(a.size(), b.size());
  ASSERT_EQ(a.size(), c.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].key(), b[i].key());
    EXPECT_EQ(a[i].correct, b[i].correct);
    EXPECT_EQ(a[i].correct, c[i].correct);
  }
  // The summary is the item-weighted mean.
  const auto s = summarise_dev(a);
  ASSERT_EQ(s.size(), 1u);
  int64_t items = 0, correct = 0;
  for (const auto& t : a) items += t.items, correct += t.correct;
  EXPECT_EQ(s[0].items, items);
  EXPECT_DOUBLE_EQ(s[0].accuracy, static_cast<double>(correct) / static_cast<double>(items));
}

// The suite summary's spread under guessing, by hand: task A 100 items at chance 1/2 (60 right),
// task B 50 items at chance 1/4 (20 right), task C 10 agent items at chance 0 (3 right).
TEST(DevSummary, ChanceSpreadAndZ) {
  std::vector<DevTaskAccuracy> t(3);
  t[0] = {"s", "a", suites::ItemType::choice, 100, 60, 0.5, {}};
  t[1] = {"s", "b", suites::ItemType::choice, 50, 20, 0.25, {}};
  t[2] = {"s", "c", suites::ItemType::agent, 10, 3, 0.0, {}};
  const auto s = summarise_dev(t);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_DOUBLE_EQ(s[0].accuracy, 83.0 / 160.0);
  EXPECT_DOUBLE_EQ(s[0].chance, 62.5 / 160.0);
  EXPECT_NEAR(s[0].chance_sd, std::sqrt(25.0 + 9.375) / 160.0, 1e-15);
  EXPECT_NEAR(s[0].z(), (83.0 - 62.5) / std::sqrt(34.375), 1e-12);
  // All items at chance 0: no spread; any right answer is infinitely unlikely under guessing.
  const auto only_agent = summarise_dev({t[2]});
  EXPECT_EQ(only_agent[0].chance_sd, 0.0);
  EXPECT_TRUE(std::isinf(only_agent[0].z()));
}

TEST_F(DevEval, ZeroItemsPerTaskScoresNothing) {
  const Model m = Model::load(recipe_->output);
  ExecContext ctx(1);
  EXPECT_TRUE(evaluate_dev(ctx, m, nullptr, load_suite_texts(*recipe_, kDevEvalSuites), 0).empty());
}

}  // namespace
}  // namespace tenx::train
