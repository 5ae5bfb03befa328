// The convert, quantize and model init commands, run as a user would: the
// written files reload with the expected tensors, --json has its stable keys,
// and bad input ends with exit code 2 and "tenx: error: FILE: ..." on stderr.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "tenx/model/model_file.hpp"
#include "tenx/model/model_init.hpp"
#include "test_util.hpp"

namespace tenx {
namespace {

struct RunResult {
  int code = -1;
  std::string out, err;
};

RunResult run_tenx(const test::ScratchDir& dir, const std::string& args) {
  const std::string out = dir.file("stdout.txt"), err = dir.file("stderr.txt");
  const std::string cmd = std::string("'") + TENX_BINARY + "' " + args + " >'" + out + "' 2>'" + err + "'";
  const int status = std::system(cmd.c_str());
  RunResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = test::read_file(out);
  r.err = test::read_file(err);
  return r;
}

#define REQUIRE_SHARED() \
  if (!test::shared_dir_available()) GTEST_SKIP() << "no " TENX_SHARED_DIR "/reference beside the checkout"

void expect_same_tensors(const ModelFile& a, const ModelFile& b) {
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (size_t k = 0; k < a.tensors.size(); ++k) {
    const TensorView &x = a.tensors[k], &y = b.tensors[k];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.type, y.type) << x.name;
    EXPECT_EQ(x.ne, y.ne) << x.name;
    ASSERT_EQ(x.nbytes, y.nbytes) << x.name;
    EXPECT_EQ(std::memcmp(x.data, y.data, x.nbytes), 0) << x.name;
  }
}

TEST(ConvertCli, LlamaGqaReloadsWithIdenticalTensors) {
  REQUIRE_SHARED();
  test::ScratchDir dir;
  const std::string hf = TENX_SHARED_DIR "/reference/hf/llama-gqa";
  const RunResult r = run_tenx(dir, "convert '" + hf + "' '" + dir.file("gqa.gguf") + "' --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  for (const char* k : {"input", "output", "architecture", "type", "file_type", "n_tensors", "n_kv", "tokenizer",
                        "input_bytes", "output_bytes", "seconds"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["architecture"], "llama");
  EXPECT_EQ(j["n_tensors"], 21);
  const ModelFile direct = load_hf_dir(hf);
  const ModelFile converted = load_gguf(dir.file("gqa.gguf"));
  expect_same_tensors(direct, converted);
  // No tokenizer.json: a placeholder byte vocabulary so that llama.cpp loads the file.
  EXPECT_EQ(j["tokenizer"], "placeholder");
  EXPECT_EQ(converted.meta.get_bool("tenx.placeholder_vocab"), true);
  ASSERT_EQ(converted.meta.find("tokenizer.ggml.tokens")->array_size(), 256u);
  EXPECT_EQ(converted.meta.find("tokenizer.ggml.tokens")->strings[72], "H");
  EXPECT_EQ(converted.meta.get_uint("tokenizer.ggml.bos_token_id"), 1u);  // config.json
  EXPECT_EQ(converted.meta.get_uint("tokenizer.ggml.eos_token_id"), 2u);
  for (const auto& [key, v] : direct.meta.entries()) {
    const GgufValue* w = converted.meta.find(key);
    ASSERT_NE(w, nullptr) << key;
    EXPECT_EQ(w->type, v.type) << key;
    EXPECT_EQ(w->i, v.i) << key;
    EXPECT_EQ(w->f, v.f) << key;
    EXPECT_EQ(w->s, v.s) << key;
  }
}

TEST(ConvertCli, SmolToF16ThenQuantizeToQ8_0) {
  REQUIRE_SHARED();
  test::ScratchDir dir;
  const std::string hf = TENX_SHARED_DIR "/reference/hf/smol-llama3-bf16";
  RunResult r = run_tenx(dir, "convert '" + hf + "' '" + dir.file("smol.gguf") + "' --type f16");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("tokenizer gpt2/llama-bpe"), std::string::npos) << r.out;
  const ModelFile f16 = load_gguf(dir.file("smol.gguf"));
  EXPECT_EQ(f16.meta.get_uint("general.file_type"), 1u);
  EXPECT_EQ(f16.find("blk.0.ffn_up.weight")->type, DType::F16);
  EXPECT_EQ(f16.find("blk.0.ffn_norm.weight")->type, DType::F32);
  EXPECT_EQ(f16.meta.find("tokenizer.ggml.tokens")->array_size(), 700u);

  r = run_tenx(dir, "quantize '" + dir.file("smol.gguf") + "' '" + dir.file("smol-q8.gguf") + "' --type q8_0 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  for (const char* k : {"input", "output", "type", "file_type", "n_tensors", "bytes_in", "bytes_out", "seconds",
                        "tensors_by_type", "tensors"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["file_type"], 7);
  EXPECT_EQ(j["tensors_by_type"]["q8_0"]["tensors"], 1 + 3 * 7);  // token_embd + 7 matrices per block
  const ModelFile q8 = load_gguf(dir.file("smol-q8.gguf"));
  EXPECT_EQ(q8.find("token_embd.weight")->type, DType::Q8_0);
  EXPECT_EQ(q8.meta.get_uint("general.quantization_version"), 2u);
  EXPECT_EQ(q8.meta.find("tokenizer.ggml.merges")->array_size(), 442u);
}

TEST(ModelInitCli, WritesTheLibrarysModel) {
  test::ScratchDir dir;
  const RunResult r = run_tenx(dir, "model init --arch qwen2 --dim 64 --layers 2 --heads 4 --kv-heads 2 --ffn 128 "
                                    "--vocab 512 --seed 9 --ctx 1024 --json '" + dir.file("m.gguf") + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  for (const char* k : {"output", "architecture", "n_embd", "n_layer", "n_head", "n_head_kv", "n_ff", "n_vocab",
                        "n_ctx", "tied", "type", "seed", "n_params", "n_tensors", "n_merges", "file_bytes"})
    EXPECT_TRUE(j.contains(k)) << k;
  ModelInitSpec s;
  s.arch = "qwen2", s.n_embd = 64, s.n_layer = 2, s.n_head = 4, s.n_head_kv = 2, s.n_ff = 128, s.n_vocab = 512;
  s.seed = 9, s.n_ctx = 1024;
  const ModelFile lib = make_random_model(s);
  const ModelFile cli = load_gguf(dir.file("m.gguf"));
  expect_same_tensors(lib, cli);
  EXPECT_EQ(cli.meta.get_uint("qwen2.context_length"), 1024u);
  EXPECT_EQ(j["n_params"], [&] { int64_t n = 0; for (const auto& t : cli.tensors) n += t.elements(); return n; }());
}

// qwen3moe from the command line, quantized: the 3-D expert tensors in Q8_0, the router F32, and
// `tenx inspect --json` giving total and active parameters (2 of 6 experts per token).
TEST(ModelInitCli, Qwen3MoeWithExpertsAndInspectCountsActiveParameters) {
  test::ScratchDir dir;
  const std::string file = dir.file("moe.gguf");
  RunResult r = run_tenx(dir, "model init --arch qwen3moe --dim 64 --layers 2 --heads 4 --kv-heads 2 --ffn 96 "
                              "--vocab 300 --seed 3 --experts 6 --experts-used 2 --expert-ffn 32 --type q8_0 '" + file + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  const ModelFile f = load_gguf(file);
  const TensorView* gate = f.find("blk.0.ffn_gate_exps.weight");
  ASSERT_NE(gate, nullptr);
  EXPECT_EQ(gate->ne, (std::array<int64_t, 4>{64, 32, 6, 1}));
  EXPECT_EQ(dtype_name(gate->type), "q8_0");
  EXPECT_EQ(dtype_name(f.find("blk.0.ffn_gate_inp.weight")->type), "f32");
  r = run_tenx(dir, "inspect --json '" + file + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["n_params"].get<int64_t>() - j["n_active_params"].get<int64_t>(), 2 * 4 * 3 * 64 * 32);
  EXPECT_EQ(j["experts"]["n_expert_used"], 2);
  // Experts for a dense family are refused, naming the flag's family.
  r = run_tenx(dir, "model init --arch qwen3 --dim 64 --layers 2 --heads 4 --ffn 96 --vocab 300 --seed 3 "
                    "--experts 6 '" + dir.file("x.gguf") + "'");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("qwen3 has no experts"), std::string::npos) << r.err;
}

TEST(Cli, BadInputExitsWithCode2AndNamesTheFile) {
  test::ScratchDir dir;
  const std::string corpus = TENX_TEST_DATA_DIR "/model/corpus/";
  struct Case { std::string args, names, problem; };
  const std::vector<Case> cases = {
      {"quantize '" + corpus + "unknown_tensor_type.gguf' '" + dir.file("o.gguf") + "' --type q8_0",
       "unknown_tensor_type.gguf", "unsupported tensor type 3"},
      {"quantize '" + corpus + "version2.gguf' '" + dir.file("o.gguf") + "' --type q4_0", "version2.gguf",
       "version 2"},
      {"quantize '" + dir.file("missing.gguf") + "' '" + dir.file("o.gguf") + "' --type f16", "missing.gguf",
       "no such file"},
      {"convert '" + corpus + "string_len_2_62.gguf' '" + dir.file("o.gguf") + "'", "string_len_2_62.gguf",
       "Hugging Face model directory"},
      {"convert '" + dir.path().string() + "' '" + dir.file("o.gguf") + "'", "config.json", "cannot read"},
      {"model init --dim 64 --layers 1 --heads 4 --ffn 64 --vocab 100 --seed 1 '" + dir.file("o.gguf") + "'",
       "model init", "vocabulary size 100"},
  };
  for (const auto& c : cases) {
    const RunResult r = run_tenx(dir, c.args);
    EXPECT_EQ(r.code, 2) << c.args << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("tenx: error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(c.names), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.problem), std::string::npos) << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("o.gguf")));
  // An unsupported target type is a usage error (CLI11), also exit code 2.
  EXPECT_EQ(run_tenx(dir, "quantize a.gguf b.gguf --type q5_k").code, 2);
}

// #14: a file whose computation tenx would get wrong fails with exit 2, naming the file, the
// architecture and the tensor or key: a tensor outside the description (a Gemma-style sandwich
// norm in a llama file) or a key that changes the computation (YaRN rope scaling).
TEST(Cli, TensorsAndKeysOutsideTheDescriptionExitWithCode2) {
  test::ScratchDir dir;
  ModelInitSpec s;
  s.n_embd = 32, s.n_layer = 1, s.n_head = 2, s.n_ff = 64, s.n_vocab = 300, s.seed = 3;
  ModelFile mf = make_random_model(s);
  TensorView extra = *mf.find("blk.0.ffn_norm.weight");
  extra.name = "blk.0.post_ffw_norm.weight";
  mf.tensors.push_back(extra);
  write_gguf(dir.file("extra.gguf"), mf.meta, mf.tensors);
  mf.tensors.pop_back();
  mf.meta.set("llama.rope.scaling.type", GgufValue::str("yarn"));
  write_gguf(dir.file("yarn.gguf"), mf.meta, mf.tensors);
  for (const auto& [file, problem] : {std::pair{std::string("extra.gguf"), std::string("architecture 'llama': tensor "
                                                "'blk.0.post_ffw_norm.weight' is not used")},
                                      std::pair{std::string("yarn.gguf"), std::string("rope scaling type 'yarn'")}}) {
    const RunResult r = run_tenx(dir, "score '" + dir.file(file) + "' --ids 1,2,3");
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find(file), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(problem), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace tenx
