// Choice items: the shared-prefix log-likelihoods against an independent path (score_tokens on
// the whole text, from an empty cache), the naive FLOPs against each choice recomputed and counted
// on its own, acc / acc_norm from the log-likelihoods, and the context rule.
#include <gtest/gtest.h>

#include <cmath>

#include "runner_fixtures.hpp"
#include "tenx/eval/run/item_runner.hpp"
#include "tenx/model/generation.hpp"
#include "tenx/model/model.hpp"
#include "tenx/ops/kernels.hpp"

namespace tenx::eval {
namespace {

using testing::TempDir;

struct Loaded {
  Model model;
  Tokenizer tok;
};

Loaded load(const std::filesystem::path& file) {
  Model m = Model::load(file.string());
  Tokenizer t = Tokenizer::from_metadata(m.file.meta, file.string());
  return {std::move(m), std::move(t)};
}

suites::Item choice_item(const std::string& context, std::vector<std::string> choices, int gold) {
  suites::Item item;
  item.id = "c1";
  item.task = "qa";
  item.body = suites::ChoiceBody{context, std::move(choices), gold};
  return item;
}

TEST(RunnerChoice, LoglikEqualsScoreTokensOnTheWholeText) {
  TempDir dir;
  const Loaded lm = load(testing::write_model(dir, "m"));
  ItemRunner runner(lm.model, lm.tok, nullptr, 1);
  const suites::Item item =
      choice_item("Q: Is osteoarthritis a disease, drug, symptom or organ? A:", {" disease", " drug", " symptom of", " organ"}, 0);
  const ItemRecord r = runner.run(item);
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_EQ(r.loglik.size(), 4u);
  const int32_t bos = lm.tok.bos_id() >= 0 ? lm.tok.bos_id() : lm.tok.eos_id();
  const std::vector<int32_t> ctx_ids = lm.tok.encode(item.choice().context, false, false);
  for (size_t c = 0; c < 4; ++c) {
    std::vector<int32_t> ids = {bos};
    ids.insert(ids.end(), ctx_ids.begin(), ctx_ids.end());
    const size_t start = ids.size();
    const std::vector<int32_t> cont = lm.tok.encode(item.choice().choices[c], false, false);
    ids.insert(ids.end(), cont.begin(), cont.end());
    ExecContext ctx(1);
    Decoder dec(lm.model, 256);
    const std::vector<TokenLogprob> lp = score_tokens(ctx, dec, ids);
    double expected = 0;
    for (size_t t = start; t < ids.size(); ++t) expected += lp[t].logprob;
    EXPECT_NEAR(r.loglik[c], expected, 1e-6 * std::max(1.0, std::fabs(expected))) << "choice " << c;
    EXPECT_EQ(r.choice_bytes[c], static_cast<int64_t>(item.choice().choices[c].size()));
  }
  // acc and acc_norm follow from the recorded numbers.
  int best = 0, best_norm = 0;
  for (int c = 1; c < 4; ++c) {
    if (r.loglik[c] > r.loglik[best]) best = c;
    if (r.loglik[c] / r.choice_bytes[c] > r.loglik[best_norm] / r.choice_bytes[best_norm]) best_norm = c;
  }
  EXPECT_EQ(r.predicted, best);
  EXPECT_EQ(r.correct, best == 0);
  EXPECT_EQ(r.correct_norm, best_norm == 0);
  EXPECT_EQ(r.score, r.correct ? 1.0 : 0.0);
  EXPECT_EQ(r.gold, 0);
  EXPECT_EQ(r.type, "choice");
}

TEST(RunnerChoice, SharedPrefixCostsLessThanNaiveAndNaiveIsPerChoiceRecomputation) {
  TempDir dir;
  const Loaded lm = load(testing::write_model(dir, "m"));
  ItemRunner runner(lm.model, lm.tok, nullptr, 1);
  const suites::Item item = choice_item("Tumour, worst values: radius 25.38, texture 17.33. Q: Benign or malignant? A:",
                                        {" benign", " malignant"}, 1);
  const ItemRecord r = runner.run(item);
  ASSERT_TRUE(r.error.empty());
  const auto V = static_cast<size_t>(lm.model.config.n_vocab);
  const int32_t bos = lm.tok.bos_id() >= 0 ? lm.tok.bos_id() : lm.tok.eos_id();
  std::vector<int32_t> ctx_ids = {bos};
  for (int32_t id : lm.tok.encode(item.choice().context, false, false)) ctx_ids.push_back(id);

  // Naive, counted: each choice from an empty cache over context + continuation, logits and a
  // log-softmax for the k rows that predict the continuation's k tokens.
  uint64_t naive = 0, prefix_tokens = 0;
  for (const std::string& choice : item.choice().choices) {
    std::vector<int32_t> ids = ctx_ids;
    const std::vector<int32_t> cont = lm.tok.encode(choice, false, false);
    ids.insert(ids.end(), cont.begin(), cont.end());
    ExecContext ctx(1);
    Decoder dec(lm.model, 256);
    std::vector<BatchToken> batch;
    for (size_t i = 0; i < ids.size(); ++i)
      batch.push_back({ids[i], static_cast<int32_t>(i), 0, i + 1 >= ctx_ids.size() && i + 1 < ids.size()});
    const std::span<const float> rows = dec.forward(ctx, batch);
    std::vector<double> lp(V);
    for (size_t k = 0; k < cont.size(); ++k) log_softmax(ctx, lp.data(), rows.data() + k * V, static_cast<int64_t>(V));
    naive += ctx.counters.total_flops();
    prefix_tokens += ids.size();
  }
  EXPECT_EQ(r.flops_naive, naive);
  EXPECT_LT(r.flops, r.flops_naive);
  // The shared run reads the context once: fewer prefill tokens than the naive runs.
  EXPECT_LT(static_cast<uint64_t>(r.tokens_in), prefix_tokens);
  EXPECT_EQ(static_cast<size_t>(r.tokens_in), ctx_ids.size() + lm.tok.encode(" benign", false, false).size() - 1 +
                                                   lm.tok.encode(" malignant", false, false).size() - 1);
  EXPECT_GT(r.bytes_read, 0u);
}

TEST(RunnerChoice, PromptLongerThanTheContextIsAnErrorAndWrong) {
  TempDir dir;
  const Loaded lm = load(testing::write_model(dir, "m", 1, /*n_ctx=*/64));
  ItemRunner runner(lm.model, lm.tok, nullptr, 1);
  std::string context;
  for (int i = 0; i < 60; ++i) context += "word" + std::to_string(i) + " ";
  const ItemRecord r = runner.run(choice_item(context, {" a", " b"}, 0));
  EXPECT_EQ(r.error, "context");
  EXPECT_FALSE(r.correct);
  EXPECT_EQ(r.score, 0.0);
  EXPECT_TRUE(r.applicable);
  // The runner goes on normally afterwards.
  const ItemRecord ok = runner.run(choice_item("Q: ok? A:", {" yes", " no"}, 0));
  EXPECT_TRUE(ok.error.empty());
  EXPECT_EQ(ok.loglik.size(), 2u);
}

TEST(RunnerChoice, ImageItemWithoutProjectorIsNotApplicable) {
  TempDir dir;
  const Loaded lm = load(testing::write_model(dir, "m"));
  ItemRunner runner(lm.model, lm.tok, nullptr, 1);
  suites::Item item = choice_item("<image> Q: Which digit? A:", {" 1", " 7"}, 1);
  item.image = suites::Image{2, 2, 1, 16, {0, 16, 8, 4}, ""};
  const ItemRecord r = runner.run(item);
  EXPECT_FALSE(r.applicable);
  EXPECT_FALSE(r.correct);
  EXPECT_EQ(r.flops, 0u);
  EXPECT_TRUE(r.loglik.empty());
}


TEST(RunnerChoice, ImageItemRunsThroughTheProjector) {
  TempDir dir;
  const auto file = testing::write_model(dir, "m");
  const Loaded lm = load(file);
  VisionConfig vc;
  vc.patch = 2;
  vc.max_grid = 4;
  vc.channels = 3;
  vc.n_embd = lm.model.config.n_embd;
  std::vector<float> proj(static_cast<size_t>(vc.patch_dim() * vc.n_embd)), bias(static_cast<size_t>(vc.n_embd)),
      pos(static_cast<size_t>(vc.n_positions() * vc.n_embd));
  for (size_t i = 0; i < proj.size(); ++i) proj[i] = 0.05f * static_cast<float>(static_cast<int>(i % 7) - 3);
  for (size_t i = 0; i < bias.size(); ++i) bias[i] = 0.01f * static_cast<float>(i % 5);
  for (size_t i = 0; i < pos.size(); ++i) pos[i] = 0.02f * static_cast<float>(static_cast<int>(i % 3) - 1);
  const std::string proj_path = VisionProjector::path_for_model(file.string());
  write_vision_projector(proj_path, vc, proj, bias, pos);
  const VisionProjector projector = VisionProjector::load(proj_path);

  ItemRunner runner(lm.model, lm.tok, &projector, 1);
  suites::Item item = choice_item("<image> Q: Which digit? A:", {" 1", " 7"}, 1);
  item.image = suites::Image{4, 4, 1, 16, {0, 16, 8, 4, 1, 2, 3, 4, 16, 16, 0, 0, 5, 6, 7, 8}, ""};
  const ItemRecord r = runner.run(item);
  ASSERT_TRUE(r.applicable);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.image_positions, 4);  // 2 x 2 patches of 2 x 2 pixels

  // Independent path: the multimodal prompt and score_tokens over prompt + continuation.
  const ImagePixels px{4, 4, 1, 16, std::span<const uint8_t>(item.image->pixels)};
  const int32_t bos = lm.tok.bos_id() >= 0 ? lm.tok.bos_id() : lm.tok.eos_id();
  for (size_t c = 0; c < 2; ++c) {
    ExecContext ctx(1);
    const MultimodalPrompt mm = build_multimodal_prompt(ctx, lm.tok, &projector, item.choice().context,
                                                        std::span<const ImagePixels>(&px, 1), false);
    std::vector<int32_t> ids = {bos};
    std::vector<const float*> rows = {nullptr};
    ids.insert(ids.end(), mm.ids.begin(), mm.ids.end());
    const auto mm_rows = mm.row_pointers();
    rows.insert(rows.end(), mm_rows.begin(), mm_rows.end());
    const size_t start = ids.size();
    for (int32_t id : lm.tok.encode(item.choice().choices[c], false, false)) {
      ids.push_back(id);
      rows.push_back(nullptr);
    }
    Decoder dec(lm.model, 256);
    const std::vector<TokenLogprob> lp = score_tokens(ctx, dec, ids, 0, 0, rows);
    double expected = 0;
    for (size_t t = start; t < ids.size(); ++t) expected += lp[t].logprob;
    EXPECT_NEAR(r.loglik[c], expected, 1e-6 * std::max(1.0, std::fabs(expected))) << "choice " << c;
  }
  EXPECT_LT(r.flops, r.flops_naive);
}

}  // namespace
}  // namespace tenx::eval
