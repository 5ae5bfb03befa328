// tenx run --batch K: many items in flight, one forward per step. The oracle is K = 1 (each item
// alone on the decoder, today's order): every record must be the same at any K but for its timing
// fields, for every suite type (choice, generate, agent, image items), on a dense model and on a
// mixture of experts; the FLOPs handed to the items must sum to what the batched forwards counted;
// and the forwards must really have carried several sequences (or the test would prove nothing).
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "records_jsonl.hpp"
#include "runner_fixtures.hpp"
#include "tenx/eval/run/item_runner.hpp"
#include "tenx/eval/run/runner.hpp"
#include "tenx/model/model.hpp"
#include "tenx/model/model_init.hpp"
#include "tenx/suites/suite_io.hpp"

namespace tenx::eval {
namespace {

using testing::TempDir;
using testing::records_without_timing;

const std::string kModels = std::string(TENX_SOURCE_DIR) + "/data/models/";

RunOptions shipped_run(const std::filesystem::path& out, int batch) {
  RunOptions o;
  o.models = {{"compact", kModels + "compact.gguf"}, {"baseline", kModels + "baseline.gguf"}};
  o.suites = {"all"};
  o.limit = 14;  // every task of the four shipped suites, image items with their projectors
  o.seed = 3;
  o.threads = 2;
  o.batch = batch;
  o.out_dir = out;
  o.quiet = true;
  return o;
}

TEST(RunnerBatch, ShippedPairRecordsAreTheSameAtEveryBatchSize) {
  TempDir dir;
  const RunResult one = run_evaluation(shipped_run(dir / "k1", 1));
  const RunResult many = run_evaluation(shipped_run(dir / "k6", 6));
  const std::vector<Json> a = records_without_timing(dir / "k1" / "items.jsonl");
  const std::vector<Json> b = records_without_timing(dir / "k6" / "items.jsonl");
  ASSERT_EQ(a.size(), b.size());
  ASSERT_GT(a.size(), 100u);
  std::set<std::string> types;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].dump(), b[i].dump()) << "record " << i;
    types.insert(a[i]["type"].get<std::string>());
    if (a[i].value("image_positions", 0) > 0) types.insert("image");
  }
  EXPECT_EQ(types, (std::set<std::string>{"agent", "choice", "generate", "image"}));
  // run.json says what concurrency the latencies were measured under.
  for (const ModelInfo& m : one.manifest.models) EXPECT_EQ(m.batch, 1);
  for (const ModelInfo& m : many.manifest.models) EXPECT_EQ(m.batch, 6);
}

// A random qwen3moe and the runner directly: the scheduler's totals, and how full its forwards were.
TEST(RunnerBatch, MixtureOfExpertsRecordsAndFlopTotals) {
  TempDir dir;
  ModelInitSpec spec;
  spec.arch = "qwen3moe";
  spec.n_embd = 32;
  spec.n_layer = 2;
  spec.n_head = 4;
  spec.n_head_kv = 2;
  spec.n_vocab = 300;
  spec.n_ctx = 256;
  spec.n_expert = 6;
  spec.n_expert_used = 2;
  spec.n_ff_exp = 24;
  spec.seed = 5;
  const std::string file = (dir / "moe.gguf").string();
  write_random_model(file, spec);
  const Model model = Model::load(file);
  const Tokenizer tok = Tokenizer::from_metadata(model.file.meta, file);

  // Items of every text type from the shipped suites (their bodies do not depend on the model).
  std::vector<suites::Suite> loaded;
  for (const char* name : {"reasoning", "health", "agentic"})
    loaded.push_back(suites::load_suite(std::filesystem::path(TENX_SOURCE_DIR) / "data/suites" / name));
  std::vector<const suites::Item*> items;
  for (const suites::Suite& s : loaded)
    for (size_t i = 0; i < s.split("test").size() && i < 9; ++i) items.push_back(&s.split("test")[i]);

  auto run_all = [&](int batch, uint64_t* counted, uint64_t* attributed, int64_t* widest) {
    ItemRunner runner(model, tok, nullptr, 2, ItemLimits{}, 0, batch);
    std::vector<std::string> lines(items.size());
    runner.run_many(items, [&](size_t i, ItemRecord&& r) {
      r.seconds = r.time_to_first_token = r.decode_seconds_per_token = 0;
      // The raw output too: a random model writes invalid UTF-8, which dump() replaces.
      lines[i] = to_json(r).dump(-1, ' ', false, Json::error_handler_t::replace) + "\n" + r.output;
    });
    *counted = runner.scheduler().counted_flops();
    *attributed = runner.scheduler().attributed_flops();
    *widest = runner.scheduler().max_sequences_in_forward();
    return lines;
  };
  uint64_t counted1 = 0, attributed1 = 0, counted5 = 0, attributed5 = 0;
  int64_t widest1 = 0, widest5 = 0;
  const std::vector<std::string> one = run_all(1, &counted1, &attributed1, &widest1);
  const std::vector<std::string> five = run_all(5, &counted5, &attributed5, &widest5);
  for (size_t i = 0; i < items.size(); ++i) EXPECT_EQ(one[i], five[i]) << items[i]->id;
  EXPECT_EQ(counted1, attributed1);
  EXPECT_EQ(counted5, attributed5);
  EXPECT_EQ(counted1, counted5);
  EXPECT_EQ(widest1, 1);
  EXPECT_EQ(widest5, 5);
}

}  // namespace
}  // namespace tenx::eval
