// SentencePiece-style BPE on a hand-built vocabulary: merges by score, byte
// fallback, the space prefix, special tokens and decode.
#include <gtest/gtest.h>

#include "tenx/model/tokenizer.hpp"
#include "tenx/util/error.hpp"
#include "tokenizer/test_vocab.hpp"

namespace {

using tenx::Tokenizer;
using tok_test::kSp;
using tok_test::spm_vocab;
using Ids = std::vector<int32_t>;

constexpr int32_t kByte0 = 3;  // id of <0x00>
// extra ids from 259
constexpr int32_t kSpace = 259, kA = 260, kB = 261, kSpA = 262, kAB = 263, kSpAB = 264, kC = 265, kTool = 266;

tenx::Metadata vocab(bool with_sp_ab) {
  return spm_vocab({{kSp, -1.0f, 1},
                    {"a", -2.0f, 1},
                    {"b", -2.0f, 1},
                    {kSp + "a", -1.5f, 1},
                    {"ab", -0.5f, 1},
                    {with_sp_ab ? kSp + "ab" : "unused-ab", -3.0f, 1},
                    {"c", -2.0f, 1},
                    {"<tool>", 0.0f, 4}});
}

TEST(TokenizerSpm, HighestScoreMergesFirst) {
  const Tokenizer t = Tokenizer::from_metadata(vocab(true), "spm.gguf");
  // "▁ab": ab (-0.5) beats ▁a (-1.5), then ▁ + ab -> ▁ab.
  EXPECT_EQ(t.encode("ab", false, false), (Ids{kSpAB}));
  const Tokenizer u = Tokenizer::from_metadata(vocab(false), "spm.gguf");
  EXPECT_EQ(u.encode("ab", false, false), (Ids{kSpace, kAB}));
  EXPECT_EQ(u.encode("ac", false, false), (Ids{kSpA, kC}));
}

TEST(TokenizerSpm, UnknownCharactersFallBackToBytes) {
  const Tokenizer t = Tokenizer::from_metadata(vocab(true), "spm.gguf");
  // "d" is no token: <0x64>. "é" (C3 A9) becomes two byte tokens.
  EXPECT_EQ(t.encode("ad", false, false), (Ids{kSpA, kByte0 + 'd'}));
  EXPECT_EQ(t.encode("\xc3\xa9", false, false), (Ids{kSpace, kByte0 + 0xC3, kByte0 + 0xA9}));
  EXPECT_EQ(t.decode({kSpace, kByte0 + 0xC3, kByte0 + 0xA9}), "\xc3\xa9");
}

TEST(TokenizerSpm, SpacePrefixAndBos) {
  const Tokenizer t = Tokenizer::from_metadata(vocab(true), "spm.gguf");
  EXPECT_TRUE(t.add_bos());
  EXPECT_EQ(t.bos_id(), 1);
  EXPECT_EQ(t.eos_id(), 2);
  EXPECT_EQ(t.encode("a", true, false), (Ids{1, kSpA}));
  EXPECT_EQ(t.encode("", true, false), (Ids{1}));
  EXPECT_EQ(t.encode("", false, false), (Ids{}));
  tenx::Metadata m = vocab(true);
  m.set("tokenizer.ggml.add_space_prefix", tenx::GgufValue::boolean(false));
  const Tokenizer n = Tokenizer::from_metadata(m, "spm.gguf");
  EXPECT_EQ(n.encode("a b", false, false), (Ids{kA, kSpace, kB}));
  EXPECT_EQ(n.decode({kSpA}), " a");
}

TEST(TokenizerSpm, SpecialTokensRestartTheSpacePrefix) {
  const Tokenizer t = Tokenizer::from_metadata(vocab(true), "spm.gguf");
  // <tool> is user-defined: always split out; the text after it gets "▁" again.
  EXPECT_EQ(t.encode("a<tool>a", false, false), (Ids{kSpA, kTool, kSpA}));
  // </s> is control: only with parse_special.
  EXPECT_EQ(t.encode("a</s>", false, true), (Ids{kSpA, 2}));
  EXPECT_NE(t.encode("a</s>", false, false).back(), 2);
}

TEST(TokenizerSpm, DecodeFollowsLlamaDetokenize) {
  const Tokenizer t = Tokenizer::from_metadata(vocab(true), "spm.gguf");
  // The space the prefix added is removed from the first piece only.
  EXPECT_EQ(t.decode({kSpA, kSpA}), "a a");
  EXPECT_EQ(t.token_to_piece(kSpA), " a");
  // BOS renders as nothing but still uses up the strip (llama.cpp with remove_special=false).
  EXPECT_EQ(t.decode({1, kSpA}), " a");
  EXPECT_EQ(t.decode({1, kSpA}, true), "<s> a");
  EXPECT_EQ(t.token_to_piece(0), "");           // <unk> is hidden like control tokens
  EXPECT_EQ(t.token_to_piece(0, true), "<unk>");
  EXPECT_EQ(t.token_to_piece(99999), "");       // out of range
  EXPECT_THROW(t.token_text(99999), tenx::Error);
  EXPECT_EQ(t.token_text(kSpA), kSp + "a");
}

}  // namespace
