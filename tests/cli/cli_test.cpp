// The CLI end to end: inspect, score and generate on a `tenx model init` model,
// their JSON checked against independent formulas and against each other, and
// bad input giving exit code 2 with `tenx: error: SUBJECT: ...`.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cmath>
#include <fstream>
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

namespace tenx {
namespace {

using test::run_tenx;

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// The config.json fields that `model init` chose and `inspect --json` reports.
std::string fields_of(const nlohmann::json& inspected) {
  return ", \"tie_word_embeddings\": " + inspected["config"]["tied_output"].dump() +
         ", \"max_position_embeddings\": " + inspected["config"]["n_ctx_train"].dump();
}

// #14 §5: a config.json alone must give the figures of the model file it describes: the GGUF
// side counts its actual tensors (ModelSpec::of), the config side derives them from the
// hyper-parameters (ModelSpec::uniform), so agreement checks one against the other. The MoE case
// also checks active parameters against the formula (k of E experts).
TEST(InspectCli, ConfigAloneGivesTheFiguresOfTheModelFile) {
  test::TempDir dir;
  struct Case {
    std::string init, config;
    int64_t active_expected;  // -1: equal to n_params
  };
  // qwen3moe, d 32, 2 layers, 4 heads of 8 (kv 2), 8 experts of 24, 2 used, vocab 300.
  const int64_t d = 32, L = 2, q = 32, kv = 16, V = 300, E = 8, k = 2, ffe = 24;
  const int64_t expert = 3 * d * ffe;
  const int64_t attn = d * q + 2 * d * kv + q * d + 2 * 8;  // + q/k norm weights (head size 8)
  const int64_t moe_active = L * (2 * d + attn + d * E + k * expert) + d + 2 * d * V;
  const std::vector<Case> cases{
      {"--arch llama --dim 64 --layers 2 --heads 4 --kv-heads 2 --ffn 96 --vocab 300",
       R"({"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 64,
           "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
           "intermediate_size": 96, "vocab_size": 300, "torch_dtype": "float32")",
       -1},
      {"--arch qwen3moe --dim 32 --layers 2 --heads 4 --kv-heads 2 --ffn 24 --experts 8 --experts-used 2 "
       "--expert-ffn 24 --vocab 300",
       R"({"model_type": "qwen3_moe", "architectures": ["Qwen3MoeForCausalLM"], "hidden_size": 32,
           "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 8,
           "intermediate_size": 24, "num_experts": 8, "num_experts_per_tok": 2, "moe_intermediate_size": 24,
           "vocab_size": 300, "torch_dtype": "float32")",
       moe_active},
  };
  int n = 0;
  int64_t llama_f32_bytes = 0;
  for (const Case& c : cases) {
    const std::string gguf = dir / ("m" + std::to_string(n) + ".gguf");
    const std::string cfg = dir / ("config" + std::to_string(n++) + ".json");
    const auto init = run_tenx("model init " + c.init + " --seed 1 " + gguf);
    ASSERT_EQ(init.code, 0) << init.err;
    const auto from_file = nlohmann::json::parse(run_tenx("inspect " + gguf + " --json --ctx 100").out);
    // The rest of the config as the file has it (tied output, trained context, rope base).
    write_text(cfg, c.config + fields_of(from_file) + "}");
    const auto r = run_tenx("inspect " + cfg + " --json --ctx 100");
    ASSERT_EQ(r.code, 0) << r.err;
    const auto from_config = nlohmann::json::parse(r.out);
    EXPECT_EQ(from_config["source"], "config.json");
    for (const char* key : {"n_params", "n_active_params", "weight_bytes", "flops_per_token"})
      EXPECT_EQ(from_config[key], from_file[key]) << c.init << ": " << key;
    EXPECT_EQ(from_config["memory"]["kv_cache"], from_file["memory"]["kv_cache"]) << c.init;
    EXPECT_EQ(from_config["flops_per_token_detail"], from_file["flops_per_token_detail"]) << c.init;
    if (n == 1) llama_f32_bytes = from_config["weight_bytes"].get<int64_t>();
    if (c.active_expected >= 0) EXPECT_EQ(from_config["n_active_params"].get<int64_t>(), c.active_expected);
    else EXPECT_EQ(from_config["n_active_params"], from_config["n_params"]);
  }
  // Side by side: one column per model, ratios against the first; JSON an array in order.
  const auto both = run_tenx("inspect " + (dir / "config0.json") + " " + (dir / "m1.gguf") + " --json --ctx 64");
  ASSERT_EQ(both.code, 0) << both.err;
  const auto arr = nlohmann::json::parse(both.out);
  ASSERT_EQ(arr.size(), 2u);
  EXPECT_EQ(arr[0]["architecture"], "llama");
  EXPECT_EQ(arr[1]["architecture"], "qwen3moe");
  EXPECT_EQ(arr[1]["context"], 64);
  const auto table = run_tenx("inspect " + (dir / "config0.json") + " " + (dir / "m1.gguf") + " --ctx 64");
  ASSERT_EQ(table.code, 0) << table.err;
  const double ratio = arr[1]["flops_per_token"].get<double>() / arr[0]["flops_per_token"].get<double>();
  EXPECT_NE(table.out.find(fmt::format("({:.2f}x)", ratio)), std::string::npos) << table.out;
  // --dtype sets a config's matrices: q8_0 is 34 bytes per 32 weights.
  const auto q8 = nlohmann::json::parse(run_tenx("inspect " + (dir / "config0.json") + " --json --dtype q8_0").out);
  EXPECT_EQ(q8["matrices"], "q8_0");
  EXPECT_LT(q8["weight_bytes"].get<int64_t>(), llama_f32_bytes / 3);
  // Bad input: a config of an unknown family, and --dtype on a GGUF, exit 2 naming the file.
  write_text(dir / "bad.json", R"({"model_type": "gpt2", "hidden_size": 8})");
  const auto bad = run_tenx("inspect " + (dir / "bad.json"));
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("bad.json"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("unsupported architecture"), std::string::npos) << bad.err;
  const auto dtype_on_gguf = run_tenx("inspect " + (dir / "m1.gguf") + " --dtype q8_0");
  EXPECT_EQ(dtype_on_gguf.code, 2);
  EXPECT_NE(dtype_on_gguf.err.find("m1.gguf"), std::string::npos) << dtype_on_gguf.err;
}

}  // namespace
}  // namespace tenx
