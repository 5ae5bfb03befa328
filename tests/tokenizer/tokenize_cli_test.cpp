// `tenx tokenize` end to end on llama.cpp's gpt-2 vocabulary fixture.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

namespace {

namespace fs = std::filesystem;

struct CliResult {
  int code;
  std::string out;
};

CliResult run(const std::string& args) {
  const std::string cmd = std::string(TENX_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {-1, ""};
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

const fs::path kGpt2 = fs::path(TENX_SHARED_DIR) / "reference" / "llama.cpp-vocab" / "ggml-vocab-gpt-2.gguf";
const fs::path kSpm = fs::path(TENX_SHARED_DIR) / "reference" / "llama.cpp-vocab" / "ggml-vocab-llama-spm.gguf";

TEST(TokenizeCli, JsonIdsAndPieces) {
  if (!fs::exists(kGpt2)) GTEST_SKIP() << "no fixture: " << kGpt2 << " is missing";
  const CliResult r = run("tokenize " + kGpt2.string() + " --text 'Hello world' --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ids"], (std::vector<int>{15496, 995}));  // ggml-vocab-gpt-2.gguf.out
  EXPECT_EQ(j["pieces"], (std::vector<std::string>{"Hello", " world"}));
  EXPECT_EQ(j["n_tokens"], 2);
}

TEST(TokenizeCli, TextListingWithBosAndSpecial) {
  if (!fs::exists(kSpm)) GTEST_SKIP() << "no fixture: " << kSpm << " is missing";
  // llama adds BOS (1); "Hello world" is 15043 3186 in ggml-vocab-llama-spm.gguf.out.
  CliResult r = run("tokenize " + kSpm.string() + " --text 'Hello world'");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out, "     1 -> '<s>'\n 15043 -> ' Hello'\n  3186 -> ' world'\n");
  r = run("tokenize " + kSpm.string() + " --text 'Hello world</s>' --no-bos --special --json");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out)["ids"], (std::vector<int>{15043, 3186, 2}));
}

TEST(TokenizeCli, BadInputExitsWithTwo) {
  CliResult r = run("tokenize /no/such/model.gguf --text hi");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("tenx: error: /no/such/model.gguf"), std::string::npos) << r.out;
  if (!fs::exists(kGpt2)) return;
  r = run("tokenize " + kGpt2.string());  // neither --text nor --file
  EXPECT_EQ(r.code, 2) << r.out;
  r = run("tokenize " + kGpt2.string() + " --file /no/such/input.txt");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("/no/such/input.txt"), std::string::npos) << r.out;
}

}  // namespace
