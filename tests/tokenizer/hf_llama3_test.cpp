// The llama3 pre-tokenizer with ignore_merges against Hugging Face `tokenizers`:
// ../shared/reference/hf/smol-llama3-bf16 has a 700-token byte-level BPE trained with
// the Llama 3 regex and ignore_merges, and expected.json holds the ids `tokenizers`
// gave 27 texts (no special tokens).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tenx/model/model_file.hpp"
#include "tenx/model/tokenizer.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kDir = fs::path(TENX_SHARED_DIR) / "reference" / "hf" / "smol-llama3-bf16";

json read_json(const fs::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

// tokenizer.json -> tokenizer.ggml.* written here from the file itself, so this
// test does not depend on tenx's Hugging Face loader.
tenx::Metadata metadata_from_tokenizer_json(const json& tj) {
  const json& model = tj.at("model");
  std::vector<std::string> tokens(model.at("vocab").size());
  std::vector<int64_t> types(tokens.size(), 1);
  for (const auto& [text, id] : model.at("vocab").items()) tokens.at(id.get<size_t>()) = text;
  for (const json& added : tj.at("added_tokens")) {
    const size_t id = added.at("id").get<size_t>();
    if (id >= tokens.size()) tokens.resize(id + 1), types.resize(id + 1, 1);
    tokens[id] = added.at("content").get<std::string>();
    types[id] = added.at("special").get<bool>() ? 3 : 4;
  }
  std::vector<std::string> merges;
  for (const json& m : model.at("merges"))
    merges.push_back(m.is_string() ? m.get<std::string>() : m[0].get<std::string>() + " " + m[1].get<std::string>());
  tenx::Metadata meta;
  meta.set("tokenizer.ggml.model", tenx::GgufValue::str("gpt2"));
  meta.set("tokenizer.ggml.pre", tenx::GgufValue::str("llama-bpe"));
  meta.set("tokenizer.ggml.tokens", tenx::GgufValue::str_array(tokens));
  meta.set("tokenizer.ggml.token_type", tenx::GgufValue::i32_array(types));
  meta.set("tokenizer.ggml.merges", tenx::GgufValue::str_array(merges));
  meta.set("tokenizer.ggml.bos_token_id", tenx::GgufValue::u32(0));
  meta.set("tokenizer.ggml.eos_token_id", tenx::GgufValue::u32(1));
  return meta;
}

void expect_reference_ids(const tenx::Tokenizer& tok) {
  const json expected = read_json(kDir / "expected.json");
  const json& cases = expected.at("tokenize");
  ASSERT_EQ(cases.size(), 27u);
  for (const json& c : cases) {
    const std::string text = c.at("text").get<std::string>();
    SCOPED_TRACE("text: '" + text + "'");
    EXPECT_EQ(tok.encode(text, false, false), c.at("ids").get<std::vector<int32_t>>());
    // The byte-level pieces put back together are the text.
    std::string joined;
    for (int32_t id : c.at("ids").get<std::vector<int32_t>>()) joined += tok.token_to_piece(id);
    EXPECT_EQ(joined, text);
  }
  // The model input of expected.json: BOS then the text.
  std::vector<int32_t> with_bos = tok.encode(expected.at("text").get<std::string>(), true, false);
  EXPECT_EQ(with_bos, expected.at("input_ids").get<std::vector<int32_t>>());
}

TEST(TokenizerHfLlama3, MatchesTokenizersFromTokenizerJson) {
  if (!fs::is_directory(kDir)) GTEST_SKIP() << "no reference: " << kDir << " is missing";
  const tenx::Tokenizer tok =
      tenx::Tokenizer::from_metadata(metadata_from_tokenizer_json(read_json(kDir / "tokenizer.json")), "tokenizer.json");
  EXPECT_EQ(tok.pre(), "llama-bpe");
  EXPECT_TRUE(tok.add_bos());  // llama3 family default, as llama.cpp
  EXPECT_EQ(tok.bos_id(), 0);
  expect_reference_ids(tok);
}

TEST(TokenizerHfLlama3, MatchesTokenizersThroughLoadHfDir) {
  if (!fs::is_directory(kDir)) GTEST_SKIP() << "no reference: " << kDir << " is missing";
  const tenx::ModelFile mf = tenx::load_hf_dir(kDir.string());
  const tenx::Tokenizer tok = tenx::Tokenizer::from_metadata(mf.meta, kDir.string());
  EXPECT_EQ(tok.model(), "gpt2");
  const json expected = read_json(kDir / "expected.json");
  for (const json& c : expected.at("tokenize")) {
    SCOPED_TRACE("text: '" + c.at("text").get<std::string>() + "'");
    EXPECT_EQ(tok.encode(c.at("text").get<std::string>(), false, false), c.at("ids").get<std::vector<int32_t>>());
  }
}

}  // namespace
