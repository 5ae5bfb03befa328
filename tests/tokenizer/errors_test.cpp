// Bad tokenizer metadata gives a tenx::Error naming the file and the key.
#include <gtest/gtest.h>

#include "tenx/model/tokenizer.hpp"
#include "tenx/util/error.hpp"
#include "tokenizer/test_vocab.hpp"

namespace {

using tenx::GgufValue;
using tenx::Metadata;
using tenx::Tokenizer;

// Expects from_metadata to throw an Error about `file` whose message contains `needle`.
void expect_error(const Metadata& m, const std::string& needle) {
  try {
    Tokenizer::from_metadata(m, "bad.gguf");
    ADD_FAILURE() << "no error; expected one mentioning " << needle;
  } catch (const tenx::Error& e) {
    EXPECT_EQ(e.subject(), "bad.gguf");
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

Metadata good_gpt2() { return tok_test::gpt2_vocab({"ab"}, {"a b"}, "gpt-2"); }

TEST(TokenizerErrors, MissingOrMistypedKeys) {
  Metadata m = good_gpt2();
  m.erase("tokenizer.ggml.tokens");
  expect_error(m, "tokenizer.ggml.tokens");
  m = good_gpt2();
  m.set("tokenizer.ggml.tokens", GgufValue::str("not an array"));
  expect_error(m, "tokenizer.ggml.tokens");
  m = good_gpt2();
  m.erase("tokenizer.ggml.model");
  expect_error(m, "tokenizer.ggml.model");
  m = good_gpt2();
  m.set("tokenizer.ggml.model", GgufValue::str("bert"));
  expect_error(m, "bert");
  m = good_gpt2();
  m.erase("tokenizer.ggml.merges");
  expect_error(m, "tokenizer.ggml.merges");
  m = good_gpt2();
  m.set("tokenizer.ggml.pre", GgufValue::str("no-such-pre"));
  expect_error(m, "no-such-pre");
}

TEST(TokenizerErrors, MalformedMerges) {
  for (const char* bad : {"ab", "a ", " b", ""}) {
    Metadata m = good_gpt2();
    m.set("tokenizer.ggml.merges", GgufValue::str_array({"a b", bad}));
    expect_error(m, "tokenizer.ggml.merges");
  }
}

TEST(TokenizerErrors, IdsOutOfRange) {
  Metadata m = good_gpt2();
  m.set("tokenizer.ggml.bos_token_id", GgufValue::u32(257));  // 257 tokens: 0..256
  expect_error(m, "tokenizer.ggml.bos_token_id");
  m = good_gpt2();
  m.set("tokenizer.ggml.eot_token_id", GgufValue::u32(100000));
  expect_error(m, "tokenizer.ggml.eot_token_id");
  m = good_gpt2();
  m.set("tokenizer.ggml.padding_token_id", GgufValue::str("0"));
  expect_error(m, "tokenizer.ggml.padding_token_id");
}

TEST(TokenizerErrors, ArrayLengthMismatch) {
  Metadata m = tok_test::spm_vocab({{"a", -1.0f, 1}});
  m.set("tokenizer.ggml.scores", GgufValue::f32_array({0.0, 1.0}));
  expect_error(m, "tokenizer.ggml.scores");
  m = tok_test::spm_vocab({{"a", -1.0f, 1}});
  m.set("tokenizer.ggml.token_type", GgufValue::i32_array({1, 1, 1}));
  expect_error(m, "tokenizer.ggml.token_type");
}

TEST(TokenizerErrors, DuplicateTokensAndMissingBos) {
  expect_error(tok_test::gpt2_vocab({"a"}, {"x y"}, "gpt-2"), "appears twice");
  Metadata m = tok_test::spm_vocab({});
  m.set("tokenizer.ggml.tokens", GgufValue::str_array({"<unk>"}));
  m.erase("tokenizer.ggml.scores");
  m.erase("tokenizer.ggml.token_type");
  expect_error(m, "add_bos_token");  // default BOS id 1 does not exist in a 1-token vocabulary
}

}  // namespace
