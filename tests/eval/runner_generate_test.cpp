// Generate items: greedy output against tenx::generate (an independent loop), stopping as soon as a
// stop string appears (the output ends before it, no token is generated after it), max_tokens, and
// scoring through suites::generate_matches.
#include <gtest/gtest.h>

#include "runner_fixtures.hpp"
#include "tenx/eval/run/item_runner.hpp"
#include "tenx/model/generation.hpp"
#include "tenx/model/model.hpp"
#include "tenx/suites/answer.hpp"

namespace tenx::eval {
namespace {

using testing::TempDir;

struct Fixture {
  TempDir dir;
  Model model;
  std::optional<Tokenizer> tok;
  Fixture() {
    const auto file = testing::write_model(dir, "m", 3);
    model = Model::load(file.string());
    tok = Tokenizer::from_metadata(model.file.meta, file.string());
  }
  int32_t bos() const { return tok->bos_id() >= 0 ? tok->bos_id() : tok->eos_id(); }
  // Reference: tenx::generate, greedy, no stop; the pieces of the generated tokens.
  std::vector<std::string> reference(const std::string& prompt, int n) {
    std::vector<int32_t> ids = {bos()};
    for (int32_t id : tok->encode(prompt, false, false)) ids.push_back(id);
    ExecContext ctx(1);
    Decoder dec(model, 256);
    Sampler greedy(SamplerOptions{});
    const GenerationResult g = generate(ctx, dec, ids, n, greedy, -1);
    std::vector<std::string> pieces;
    for (int32_t id : g.tokens) {
      if (tok->is_eog(id)) break;
      pieces.push_back(tok->token_to_piece(id, false));
    }
    return pieces;
  }
};

suites::Item generate_item(const std::string& prompt, std::vector<std::string> targets, std::vector<std::string> stop,
                           int max_tokens) {
  suites::Item item;
  item.id = "g1";
  item.task = "gen";
  suites::GenerateBody g;
  g.prompt = prompt;
  g.targets = std::move(targets);
  g.stop = std::move(stop);
  g.max_tokens = max_tokens;
  item.body = g;
  return item;
}

TEST(RunnerGenerate, StopsAtTheFirstStopString) {
  Fixture f;
  const std::string prompt = "Q: What is 37 + 13? A:";
  const std::vector<std::string> pieces = f.reference(prompt, 12);
  ASSERT_GE(pieces.size(), 6u) << "the random model ended too early for this test";
  // A stop string that the greedy text contains: the piece of token 4 (plus what precedes it
  // inside the same token if empty); find where it first appears in the text.
  std::string full;
  for (const auto& p : pieces) full += p;
  std::string stop = pieces[4];
  ASSERT_FALSE(stop.empty());
  const size_t at = full.find(stop);
  // The token during which the stop string was complete for the first time.
  size_t tokens_needed = 0, len = 0;
  while (len < at + stop.size()) len += pieces[tokens_needed++].size();

  ItemRunner runner(f.model, *f.tok, nullptr, 1);
  const ItemRecord r = runner.run(generate_item(prompt, {full.substr(0, at)}, {stop}, 12));
  EXPECT_EQ(r.output, full.substr(0, at));
  EXPECT_EQ(r.tokens_out, static_cast<int64_t>(tokens_needed));
  EXPECT_EQ(r.stop_reason, "stop");
  EXPECT_TRUE(r.correct);  // the target is the text before the stop
  EXPECT_GT(r.time_to_first_token, 0.0);
  EXPECT_EQ(r.flops_naive, r.flops);

  // Without a stop: max_tokens tokens, the whole greedy text.
  const ItemRecord all = runner.run(generate_item(prompt, {"nothing like it"}, {}, 12));
  if (all.stop_reason == "max_tokens") {
    EXPECT_EQ(all.tokens_out, 12);
    EXPECT_EQ(all.output, full);
  }
  EXPECT_FALSE(all.correct);
  EXPECT_EQ(all.tokens_in, r.tokens_in);  // the same prompt
  EXPECT_GT(all.flops, r.flops);          // more decode steps
}

TEST(RunnerGenerate, NumericMatchWithTolerance) {
  Fixture f;
  ItemRunner runner(f.model, *f.tok, nullptr, 1);
  // Whatever the model writes, scoring must agree with generate_matches on the recorded output.
  suites::Item item = generate_item("Q: BMI? A:", {"30.9"}, {"\n"}, 6);
  item.generate().match = suites::MatchKind::numeric;
  item.generate().tolerance = 1000.0;
  const ItemRecord r = runner.run(item);
  EXPECT_EQ(r.correct, suites::generate_matches(item.generate(), r.output));
  EXPECT_LE(r.tokens_out, 6);
}

}  // namespace
}  // namespace tenx::eval
