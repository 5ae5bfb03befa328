// The CLI end to end: inspect, score and generate on a `tenx model init` model,
// their JSON checked against independent formulas and against each other, and
// bad input giving exit code 2 with `tenx: error: SUBJECT: ...`.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "run_cli.hpp"

namespace tenx {
namespace {

using test::run_tenx;

class Cli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    const auto r = run_tenx("model init --arch llama --dim 64 --layers 2 --heads 4 --kv-heads 2 --ffn 96 --vocab 300 "
                            "--seed 3 " + (*dir_ / "m.gguf"));
    ASSERT_EQ(r.code, 0) << r.err;
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string model() { return *dir_ / "m.gguf"; }
  static test::TempDir* dir_;
};
test::TempDir* Cli::dir_ = nullptr;

TEST_F(Cli, InspectReportsParametersAndFlopsFromTheFormula) {
  const auto r = run_tenx("inspect " + model() + " --ctx 100 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  // d 64, 2 layers, q 64, kv 32, ffn 96, vocab 300, untied.
  const int64_t d = 64, L = 2, q = 64, kv = 32, ff = 96, V = 300;
  const int64_t per_layer = 2 * d + d * q + 2 * d * kv + q * d + 3 * d * ff;
  const bool tied = j["config"]["tied_output"].get<bool>();
  const int64_t params = L * per_layer + d + d * V * (tied ? 1 : 2);
  EXPECT_EQ(j["n_params"].get<int64_t>(), params);
  EXPECT_EQ(j["architecture"], "llama");
  EXPECT_EQ(j["config"]["n_head_kv"], 2);
  // One decode step at position 99: matmul 2·N_matmul, attention 4·L·100·q.
  const auto& f = j["flops_per_token_detail"];
  EXPECT_EQ(f["flops_matmul"].get<int64_t>(), 2 * (L * (d * q + 2 * d * kv + q * d + 3 * d * ff) + d * V));
  EXPECT_EQ(f["flops_attention"].get<int64_t>(), 4 * L * 100 * q);
  EXPECT_EQ(j["memory"]["kv_cache"].get<int64_t>(), L * 2 * 100 * kv * 4);
  EXPECT_EQ(j["weight_bytes"].get<int64_t>(), j["weights_by_type"]["f32"]["bytes"].get<int64_t>());
  const auto table = run_tenx("inspect " + model());
  EXPECT_EQ(table.code, 0);
  EXPECT_NE(table.out.find("FLOPs/token"), std::string::npos);
}

TEST_F(Cli, ScoreIsConsistentWithGreedyGeneration) {
  const auto g = run_tenx("generate " + model() + " --ids 5,6,7 -n 6 --ignore-eos --json -t 2");
  ASSERT_EQ(g.code, 0) << g.err;
  const auto gj = nlohmann::json::parse(g.out);
  auto ids = gj["prompt_ids"].get<std::vector<int>>();
  const auto gen = gj["ids"].get<std::vector<int>>();
  ASSERT_EQ(gen.size(), 6u);
  EXPECT_GT(gj["flops"]["decode"]["flops"].get<int64_t>(), 0);
  EXPECT_EQ(gj["flops"]["decode"]["tokens"].get<int64_t>(), 5);
  ids.insert(ids.end(), gen.begin(), gen.end());
  std::string csv;
  for (int id : ids) csv += (csv.empty() ? "" : ",") + std::to_string(id);
  const auto s = run_tenx("score " + model() + " --ids " + csv + " --top-k 3 --json -t 1");
  ASSERT_EQ(s.code, 0) << s.err;
  const auto sj = nlohmann::json::parse(s.out);
  const auto& pos = sj["positions"];
  ASSERT_EQ(pos.size(), ids.size());
  double nll = 0;
  for (size_t t = 1; t < ids.size(); ++t) {
    const double lp = pos[t]["logprob"].get<double>();
    EXPECT_LE(lp, 0.0);
    nll -= lp;
  }
  EXPECT_NEAR(sj["total_nll"].get<double>(), nll, 1e-9);
  EXPECT_NEAR(sj["perplexity"].get<double>(), std::exp(nll / static_cast<double>(ids.size() - 1)), 1e-9);
  // Greedy generation (KV cache, decode phase) picks the argmax the scoring pass
  // (one prefill) sees at every generated position.
  for (size_t t = 2; t + 1 < ids.size(); ++t) {
    EXPECT_EQ(pos[t]["top"][0][0].get<int>(), ids[t + 1]) << "position " << t;
    EXPECT_NEAR(pos[t]["top"][0][1].get<double>(), pos[t + 1]["logprob"].get<double>(), 1e-9);
  }
}

TEST_F(Cli, BadInputExitsTwoAndNamesTheProblem) {
  test::TempDir d;
  {
    const auto r = run_tenx("inspect " + (d / "missing.gguf"));
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err.rfind("tenx: error: " + (d / "missing.gguf"), 0), 0u) << r.err;
  }
  {
    std::ofstream(d / "junk.gguf") << "this is not a model file at all";
    const auto r = run_tenx("score " + (d / "junk.gguf") + " --ids 1,2");
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("junk.gguf"), std::string::npos) << r.err;
  }
  {
    const auto r = run_tenx("score " + model() + " --ids 1,99999");
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("99999"), std::string::npos) << r.err;
  }
  {
    const auto r = run_tenx("score " + model() + " --ids 1,x");
    EXPECT_EQ(r.code, 2);
  }
  {
    const auto r = run_tenx("generate " + model() + " --no-such-flag");
    EXPECT_EQ(r.code, 2);
  }
  {
    const auto r = run_tenx("score " + model());
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("--text"), std::string::npos) << r.err;
  }
}

TEST_F(Cli, TextInputGoesThroughTheTokenizer) {
  const auto r = run_tenx("score " + model() + " --text \"hello world\" --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  std::string joined;
  for (const auto& p : j["positions"]) joined += p["piece"].get<std::string>();
  EXPECT_NE(joined.find("hello world"), std::string::npos) << joined;
  const auto g = run_tenx("generate " + model() + " -p \"hello\" -n 4 --ignore-eos");
  ASSERT_EQ(g.code, 0) << g.err;
  EXPECT_EQ(g.out.rfind("hello", 0), 0u) << g.out;
}

}  // namespace
}  // namespace tenx

namespace tenx {
namespace {

TEST_F(Cli, BenchPrintsLlamaBenchFields) {
  const auto r = run_tenx("bench " + model() + " -p 16 -n 4 -r 2 -t 1 -o json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 2u);  // pp16, tg4
  for (const char* key : {"model_filename", "model_type", "model_size", "model_n_params", "n_batch", "n_threads",
                          "type_k", "type_v", "n_prompt", "n_gen", "test_time", "avg_ns", "stddev_ns", "avg_ts",
                          "stddev_ts", "samples_ns", "samples_ts"})
    EXPECT_TRUE(j[0].contains(key)) << key;
  EXPECT_EQ(j[0]["n_prompt"], 16);
  EXPECT_EQ(j[1]["n_gen"], 4);
  EXPECT_EQ(j[0]["samples_ns"].size(), 2u);
  // tokens/s of each sample is tokens over its time.
  const double ns = j[0]["samples_ns"][0].get<double>();
  EXPECT_NEAR(j[0]["samples_ts"][0].get<double>(), 16 * 1e9 / ns, 1e-6 * 16 * 1e9 / ns);
  // tg4 runs four decode steps at positions 0..3, each with logits: exactly the
  // per-token FLOPs `inspect` derives at contexts 1..4.
  int64_t expected = 0;
  for (int ctx = 1; ctx <= 4; ++ctx)
    expected += nlohmann::json::parse(run_tenx("inspect " + model() + " --json --ctx " + std::to_string(ctx)).out)
                    ["flops_per_token"].get<int64_t>();
  EXPECT_EQ(j[1]["flops"].get<int64_t>(), expected);
  for (const char* fmt : {"md", "csv", "jsonl"}) {
    const auto o = run_tenx(std::string("bench ") + model() + " -p 8 -n 0 -r 1 -t 1 -o " + fmt);
    EXPECT_EQ(o.code, 0) << fmt << o.err;
    EXPECT_NE(o.out.find("8"), std::string::npos);
  }
  EXPECT_EQ(run_tenx("bench " + model() + " -o xml").code, 2);
}

}  // namespace
}  // namespace tenx
