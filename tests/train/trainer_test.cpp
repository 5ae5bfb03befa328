// End-to-end runs of the trainer on a shipped suite: the loss falls, two runs
// with the same seed give the same weights (for 1 and 2 threads alike), a run
// stopped and resumed from its checkpoint ends bit-identical to an uninterrupted
// one, and the written model loads in the core with its training compute.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tenx/model/analytic.hpp"
#include "tenx/model/model.hpp"
#include "tenx/model/model_file.hpp"
#include "tenx/train/recipe.hpp"
#include "tenx/train/trainer.hpp"
#include "tenx/util/error.hpp"

namespace tenx::train {
namespace {

namespace fs = std::filesystem;

const fs::path kTrainerSuites = fs::path(TENX_TEST_DATA_DIR) / ".." / "data" / "suites";

class TrainerRun : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kTrainerSuites / "reasoning" / "suite.json")) GTEST_SKIP() << "no shipped suites at " << kTrainerSuites;
    dir_ = fs::temp_directory_path() / fmt::format("tenx-trainer-{}-{}", ::getpid(),
                                                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // A tiny model on two-digit additions (answers only), 24 steps.
  Recipe recipe(const std::string& name, int64_t steps = 24) {
    const std::string json = fmt::format(R"({{
      "name": "{0}", "seed": 7,
      "model": {{"dim": 32, "layers": 2, "heads": 4, "kv_heads": 2, "ffn": 64, "vocab": 300, "ctx": 48}},
      "data": {{"suites": [{{"suite": "reasoning", "tasks": ["arith_add_2digit"], "max_items": 400}}],
                "dev_fraction": 0.05, "mask": "answer"}},
      "optimizer": {{"lr": 0.01, "warmup": 3, "steps": {1}, "batch": 4, "seq_len": 48}},
      "eval": {{"every": 12, "batches": 1}},
      "output": "{2}"
    }})", name, steps, (dir_ / (name + ".gguf")).string());
    return parse_recipe(json, name + ".json");
  }

  TrainResult train(const Recipe& r, int threads = 2, bool resume = false, int64_t stop_after = 0) {
    TrainOptions o;
    o.threads = threads;
    o.suites_dir = kTrainerSuites;
    o.resume = resume;
    o.stop_after = stop_after;
    return run_training(r, o);
  }

  static std::vector<nlohmann::json> log_lines(const Recipe& r) {
    std::vector<nlohmann::json> out;
    std::ifstream in(r.log_path());
    for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
    return out;
  }

  // Every tensor's bytes of a model file, in order.
  static std::vector<std::vector<uint8_t>> weights(const std::string& path) {
    const ModelFile f = load_gguf(path);
    std::vector<std::vector<uint8_t>> out;
    for (const TensorView& t : f.tensors) out.emplace_back(t.data, t.data + t.nbytes);
    return out;
  }

  fs::path dir_;
};

TEST_F(TrainerRun, LossFallsAndModelLoadsWithItsCompute) {
  const Recipe r = recipe("falls");
  const TrainResult res = train(r);
  ASSERT_TRUE(res.finished);
  const auto lines = log_lines(r);
  ASSERT_EQ(lines.size(), 24u);
  const double first = lines.front()["loss"], last = lines.back()["loss"];
  EXPECT_LT(last, 0.6 * first) << "first " << first << " last " << last;
  EXPECT_TRUE(lines.back().contains("dev_loss"));
  EXPECT_LT(res.dev_loss, first);
  for (size_t i = 1; i < lines.size(); ++i) {
    EXPECT_GT(lines[i]["tokens"].get<uint64_t>(), lines[i - 1]["tokens"].get<uint64_t>());
    EXPECT_GT(lines[i]["flops"].get<uint64_t>(), lines[i - 1]["flops"].get<uint64_t>());
  }

  const Model m = Model::load(r.output);
  EXPECT_EQ(m.config.n_embd, 32);
  // At most the recipe's 300: merges stop when no pair occurs twice (additions use few words).
  EXPECT_LE(m.config.n_vocab, 300);
  EXPECT_GT(m.config.n_vocab, 256 + 8);
  EXPECT_EQ(m.file.meta.get_uint("tenx.training.steps"), 24u);
  EXPECT_EQ(m.file.meta.get_uint("tenx.training.seed"), 7u);
  EXPECT_EQ(m.file.meta.get_string("tenx.training.recipe"), "falls");
  EXPECT_EQ(m.file.meta.get_uint("tenx.training.tokens"), res.record.tokens);
  EXPECT_GT(*m.file.meta.get_float("tenx.training.seconds"), 0.0);
  // FLOPs: 3 × the analytic forward of 4 rows of 48 tokens each step, which is
  // at least 3 × 2·N_matmul per token (attention adds to it).
  const ModelSpec spec = ModelSpec::uniform(m.config, DType::F32);
  const uint64_t per_token_min = 3 * 2 * static_cast<uint64_t>(spec.n_params() - m.config.n_vocab * m.config.n_embd -
                                                              m.config.n_embd * (2 * m.config.n_layer + 1));
  EXPECT_GE(res.record.flops, per_token_min * 24 * 4 * 48);
  EXPECT_LT(res.record.flops, 2 * per_token_min * 24 * 4 * 48);

  // Distillation: a smaller student learns from this model's distributions and
  // inherits its vocabulary.
  Recipe student = recipe("student", 8);
  student.teacher = r.output;
  student.alpha = 0.5f;
  student.temperature = 2.0f;
  student.dim = 16;
  student.heads = 2;
  student.kv_heads = 1;
  const TrainResult sres = train(student);
  ASSERT_TRUE(sres.finished);
  const auto slines = log_lines(student);
  EXPECT_LT(slines.back()["loss"].get<double>(), slines.front()["loss"].get<double>());
  const ModelFile sf = load_gguf(student.output);
  EXPECT_EQ(sf.meta.find("tokenizer.ggml.merges")->strings, m.file.meta.find("tokenizer.ggml.merges")->strings);
  // The teacher's forward passes are counted into the student's training compute: every
  // document has trained (answer) tokens, so the teacher runs about every non-padding token,
  // at least 2·N_matmul(teacher) FLOPs each (attention adds a little at these lengths).
  const uint64_t teacher_flops = sres.record.teacher_flops;
  EXPECT_EQ(sf.meta.get_uint("tenx.training.teacher_flops"), teacher_flops);
  EXPECT_EQ(sf.meta.get_uint("tenx.training.flops"), sres.record.flops);
  const uint64_t teacher_per_token = per_token_min / 3;
  EXPECT_GE(teacher_flops, teacher_per_token * sres.record.tokens * 9 / 10);
  EXPECT_LT(teacher_flops, 2 * teacher_per_token * sres.record.tokens);
  EXPECT_GT(sres.record.flops, teacher_flops);
  EXPECT_EQ(res.record.teacher_flops, 0u);
}

TEST_F(TrainerRun, SameSeedSameBytesForAnyThreadCount) {
  const Recipe a = recipe("det_a", 6), b = recipe("det_b", 6);
  train(a, 2);
  train(b, 1);
  EXPECT_EQ(weights(a.output), weights(b.output));
  Recipe c = recipe("det_c", 6);
  c.seed = 8;  // and a different seed gives different weights
  train(c, 2);
  EXPECT_NE(weights(a.output), weights(c.output));
}

TEST_F(TrainerRun, ResumedRunEndsBitIdentical) {
  const Recipe whole = recipe("whole", 10), split = recipe("split", 10);
  train(whole);
  const TrainResult first = train(split, 2, false, 4);
  EXPECT_FALSE(first.finished);
  EXPECT_EQ(first.next_step, 4);
  ASSERT_TRUE(fs::exists(split.checkpoint_path()));
  EXPECT_FALSE(fs::exists(split.output));
  const TrainResult second = train(split, 2, true);
  EXPECT_TRUE(second.finished);
  EXPECT_EQ(weights(whole.output), weights(split.output));
  EXPECT_EQ(log_lines(split).size(), 10u);  // the log continues where it stopped
  const ModelFile a = load_gguf(whole.output), b = load_gguf(split.output);
  EXPECT_EQ(a.meta.get_uint("tenx.training.tokens"), b.meta.get_uint("tenx.training.tokens"));
  EXPECT_EQ(a.meta.get_uint("tenx.training.flops"), b.meta.get_uint("tenx.training.flops"));

  // A checkpoint of another recipe is refused.
  Recipe other = recipe("split", 10);
  other.digest = "different";
  EXPECT_THROW(train(other, 2, true), Error);
}

TEST(TrainRecipe, ErrorsNameTheFileAndField) {
  auto error_of = [](const std::string& json) {
    try {
      parse_recipe(json, "r.json");
    } catch (const Error& e) {
      EXPECT_EQ(e.subject(), "r.json");
      return e.detail();
    }
    return std::string("no error");
  };
  const std::string ok_tail = R"("output": "m.gguf", "model": {}, "data": {"suites": [{"suite": "x"}]})";
  EXPECT_NE(error_of(R"({"name": "a", )" + ok_tail + R"(, "optimizer": {"steps": 1, "lr": -1}})").find("optimizer.lr"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"name": "a", )" + ok_tail + R"(, "optimizer": {"steps": 1}, "colour": 1})").find("colour"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"name": "a", )" + ok_tail + R"(, "optimizer": {}})").find("steps"), std::string::npos);
  EXPECT_NE(error_of(R"({"name": "a", "output": "m", "model": {"dim": 30, "heads": 4},
                        "data": {"suites": [{"suite": "x"}]}, "optimizer": {"steps": 1}})").find("model.heads"),
            std::string::npos);
  EXPECT_NE(error_of("{nope").find("not valid JSON"), std::string::npos);
  const Recipe r = parse_recipe(R"({"name": "a", )" + ok_tail + R"(, "optimizer": {"tokens": 1000, "batch": 2, "seq_len": 64}})", "r.json");
  EXPECT_EQ(r.total_steps(), 8);
  EXPECT_EQ(r.log_path(), "m.gguf.log.jsonl");
}

TEST(TrainRecipe, ShippedSmokeRecipeParses) {
  const Recipe r = load_recipe((fs::path(TENX_TEST_DATA_DIR) / ".." / "data" / "recipes" / "smoke.json").string());
  EXPECT_EQ(r.name, "smoke");
  EXPECT_GT(r.total_steps(), 0);
}

}  // namespace
}  // namespace tenx::train
