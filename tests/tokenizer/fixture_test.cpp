// Exact agreement with llama.cpp's own tokenizer fixtures (tests/test-tokenizer-0):
// every NAME.gguf.inp in ../shared/reference/llama.cpp-vocab and in
// tests/tokenizer/fixtures/ is tokenized with add_special = false and
// parse_special = false and must give the ids of NAME.gguf.out.
#include <gtest/gtest.h>

#include <filesystem>

#include "tenx/model/model_file.hpp"
#include "tenx/model/tokenizer.hpp"
#include "tokenizer/vocab_fixture.hpp"

namespace {

namespace fs = std::filesystem;

std::string ids_text(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) {
    s += ' ';
    s += std::to_string(id);
  }
  return s;
}

// Returns the number of cases checked.
size_t check_fixture(const fs::path& gguf) {
  SCOPED_TRACE(gguf.string());
  const vocab_fixture::Fixture fx = vocab_fixture::load(gguf);
  const tenx::ModelFile mf = tenx::load_gguf(fx.gguf);
  const tenx::Tokenizer tok = tenx::Tokenizer::from_metadata(mf.meta, fx.gguf);
  size_t i = 0;
  for (const auto& c : fx.cases) {
    SCOPED_TRACE("case " + std::to_string(i++) + ": '" + c.text + "'");
    const std::vector<int32_t> ids = tok.encode(c.text, false, false);
    EXPECT_EQ(ids_text(ids), ids_text(c.ids));
    // The pieces put back together are the text's bytes; the SentencePiece space
    // prefix shows up as one leading space.
    std::string joined;
    for (int32_t id : c.ids) joined += tok.token_to_piece(id);
    const std::string prefix = tok.model() == "llama" && !c.text.empty() ? " " : "";
    EXPECT_EQ(joined, prefix + c.text);
  }
  return fx.cases.size();
}

size_t check_dir(const fs::path& dir) {
  size_t n = 0;
  for (const fs::path& gguf : vocab_fixture::find(dir)) n += check_fixture(gguf);
  return n;
}

TEST(TokenizerFixtures, LlamaCppVocabFixturesMatchExactly) {
  const fs::path dir = fs::path(TENX_SHARED_DIR) / "reference" / "llama.cpp-vocab";
  if (!fs::is_directory(dir)) GTEST_SKIP() << "no llama.cpp fixtures: " << dir << " is missing";
  const auto files = vocab_fixture::find(dir);
  ASSERT_GE(files.size(), 3u) << "expected gpt-2, llama-spm and phi-3 in " << dir;
  const size_t n = check_dir(dir);
  EXPECT_GE(n, 3u * 46u);
  std::printf("checked %zu texts in %zu fixtures\n", n, files.size());
}

TEST(TokenizerFixtures, LocalFixturesMatchExactly) {
  const fs::path dir = fs::path(TENX_TEST_DATA_DIR) / "tokenizer" / "fixtures";
  if (vocab_fixture::find(dir).empty()) GTEST_SKIP() << "no fixtures in " << dir;
  check_dir(dir);
}

TEST(TokenizerFixtures, ReaderParsesTheFormat) {
  const std::string inp = "a\n__ggml_vocab_test__\n\n__ggml_vocab_test__\nb c\n\n__ggml_vocab_test__\n";
  const auto texts = vocab_fixture::parse_inputs(inp, "inp");
  ASSERT_EQ(texts.size(), 3u);
  EXPECT_EQ(texts[0], "a");
  EXPECT_EQ(texts[1], "");
  EXPECT_EQ(texts[2], "b c\n");
  const auto ids = vocab_fixture::parse_outputs(" 1 2\n\n 30\n", "out");
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[0], (std::vector<int32_t>{1, 2}));
  EXPECT_TRUE(ids[1].empty());
  EXPECT_EQ(ids[2], (std::vector<int32_t>{30}));
  EXPECT_THROW(vocab_fixture::parse_inputs("no separator", "inp"), std::runtime_error);
  EXPECT_THROW(vocab_fixture::parse_outputs(" 1 x\n", "out"), std::runtime_error);
}

}  // namespace
