// tenx run --batch K on quantized models: the shipped pair re-stored as Q8_0, and random llamas
// stored as Q4_K, Q6_K and Q4_0, must give the records of K = 1 at K > 1, byte for byte outside
// the timing fields, for choice, generate and agent items, and their default K must batch (it is
// chosen from the KV cache alone, as for float models).
// The oracle is K = 1: each item alone on the decoder, every matmul a one-row GEMV.
#include <gtest/gtest.h>

#include <set>

#include "records_jsonl.hpp"
#include "runner_fixtures.hpp"
#include "tenx/eval/run/item_runner.hpp"
#include "tenx/eval/run/runner.hpp"
#include "tenx/model/model.hpp"
#include "tenx/model/model_file.hpp"
#include "tenx/model/model_init.hpp"
#include "tenx/model/quantize_model.hpp"
#include "tenx/suites/suite_io.hpp"

namespace tenx::eval {
namespace {

using testing::TempDir;
using testing::records_without_timing;

const std::string kShippedModelDir = std::string(TENX_SOURCE_DIR) + "/data/models/";

// The shipped model NAME stored as type; returns the new file and how many matrices took type.
std::string quantized_copy(const std::filesystem::path& dir, const std::string& name, DType type, int* matrices) {
  const ModelFile in = load_model_file(kShippedModelDir + name + ".gguf");
  const QuantizedModel q = quantize_model(in, type);
  *matrices = 0;
  for (const TensorConversion& c : q.conversions) *matrices += c.to == type;
  const std::string out = (dir / (name + "-" + std::string(dtype_name(type)) + ".gguf")).string();
  write_gguf(out, q.model.meta, q.model.tensors);
  return out;
}

RunOptions quantized_run(const std::string& compact, const std::string& baseline, const std::filesystem::path& out,
                         int batch) {
  RunOptions o;
  o.models = {{"compact", compact}, {"baseline", baseline}};
  o.suites = {"reasoning", "health", "agentic"};
  o.limit = 10;
  o.seed = 3;
  o.threads = 2;
  o.batch = batch;
  o.out_dir = out;
  o.quiet = true;
  return o;
}

TEST(RunnerBatch, QuantizedShippedPairRecordsAreTheSameAtEveryBatchSize) {
  TempDir dir;
  int compact_matrices = 0, baseline_matrices = 0;
  const std::string compact = quantized_copy(dir.path(), "compact", DType::Q8_0, &compact_matrices);
  const std::string baseline = quantized_copy(dir.path(), "baseline", DType::Q8_0, &baseline_matrices);
  EXPECT_EQ(compact_matrices, 4 * 7 + 2);  // 4 layers x 7 matrices, token_embd, output
  EXPECT_EQ(baseline_matrices, 6 * 7 + 2);
  EXPECT_GT(default_batch(Model::load(compact)), 1);
  EXPECT_GT(default_batch(Model::load(baseline)), 1);

  const RunResult one = run_evaluation(quantized_run(compact, baseline, dir / "k1", 1));
  const RunResult many = run_evaluation(quantized_run(compact, baseline, dir / "k6", 6));
  const std::vector<Json> a = records_without_timing(dir / "k1" / "items.jsonl");
  const std::vector<Json> b = records_without_timing(dir / "k6" / "items.jsonl");
  ASSERT_EQ(a.size(), b.size());
  ASSERT_EQ(a.size(), 60u);  // 2 models x 3 suites x 10 items
  std::set<std::string> types;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].dump(), b[i].dump()) << "record " << i;
    types.insert(a[i]["type"].get<std::string>());
  }
  EXPECT_EQ(types, (std::set<std::string>{"agent", "choice", "generate"}));
  for (const ModelInfo& m : one.manifest.models) EXPECT_EQ(m.batch, 1);
  for (const ModelInfo& m : many.manifest.models) EXPECT_EQ(m.batch, 6);
}

// The shipped models are 64 and 192 wide, too narrow for K-quant super-blocks (256): random
// llamas 256 wide stored as Q4_K, Q6_K and Q4_0, through the runner directly, every text type.
TEST(RunnerBatch, KQuantAndQ4_0RecordsAreTheSameAtEveryBatchSize) {
  std::vector<suites::Suite> loaded;
  for (const char* name : {"reasoning", "health", "agentic"})
    loaded.push_back(suites::load_suite(std::filesystem::path(TENX_SOURCE_DIR) / "data/suites" / name));
  std::vector<const suites::Item*> items;
  for (const suites::Suite& s : loaded)
    for (size_t i = 0; i < s.split("test").size() && i < 7; ++i) items.push_back(&s.split("test")[i]);

  for (DType type : {DType::Q4_K, DType::Q6_K, DType::Q4_0}) {
    SCOPED_TRACE(dtype_name(type));
    TempDir dir;
    ModelInitSpec spec;
    spec.n_embd = 256;
    spec.n_head = 4;
    spec.n_head_kv = 2;
    spec.n_ff = 512;
    spec.n_vocab = 300;
    spec.n_ctx = 512;
    spec.type = type;
    spec.seed = 9;
    const std::string file = (dir / "model.gguf").string();
    write_random_model(file, spec);
    const Model model = Model::load(file);
    ASSERT_NE(model.file.find("blk.0.ffn_down.weight"), nullptr);
    EXPECT_EQ(model.file.find("blk.0.ffn_down.weight")->type, type);
    EXPECT_EQ(model.output->type, type);
    EXPECT_GT(default_batch(model), 1);
    const Tokenizer tok = Tokenizer::from_metadata(model.file.meta, file);

    auto run_all = [&](int batch, int64_t* widest) {
      ItemRunner runner(model, tok, nullptr, 2, ItemLimits{}, 0, batch);
      std::vector<std::string> lines(items.size());
      runner.run_many(items, [&](size_t i, ItemRecord&& r) {
        r.seconds = r.time_to_first_token = r.decode_seconds_per_token = 0;
        lines[i] = to_json(r).dump(-1, ' ', false, Json::error_handler_t::replace) + "\n" + r.output;
      });
      *widest = runner.scheduler().max_sequences_in_forward();
      return lines;
    };
    int64_t widest1 = 0, widest5 = 0;
    const std::vector<std::string> one = run_all(1, &widest1);
    const std::vector<std::string> five = run_all(5, &widest5);
    for (size_t i = 0; i < items.size(); ++i) EXPECT_EQ(one[i], five[i]) << items[i]->id;
    EXPECT_EQ(widest1, 1);
    EXPECT_EQ(widest5, 5);
  }
}

}  // namespace
}  // namespace tenx::eval
