// Byte-level BPE on hand-built vocabularies: merge order by rank, leftmost ties,
// ignore_merges, the GPT-2 byte mapping, invalid UTF-8, special tokens, decode.
#include <gtest/gtest.h>

#include "tenx/model/tokenizer.hpp"
#include "tokenizer/test_vocab.hpp"

namespace {

using tenx::Tokenizer;
using tok_test::byte_char;
using tok_test::gpt2_vocab;
using Ids = std::vector<int32_t>;

Tokenizer make(const std::vector<std::string>& extra, const std::vector<std::string>& merges,
               const std::string& pre = "gpt-2", const std::vector<int64_t>& types = {}) {
  return Tokenizer::from_metadata(gpt2_vocab(extra, merges, pre, types), "test.gguf");
}

TEST(TokenizerBpe, LowestRankMergesFirst) {
  // extra ids: ab 256, bc 257, abc 258
  const Tokenizer a = make({"ab", "bc", "abc"}, {"b c", "a b", "ab c"});
  EXPECT_EQ(a.encode("abc", false, false), (Ids{'a', 257}));  // b+c first, "a bc" is no merge
  const Tokenizer b = make({"ab", "bc", "abc"}, {"a b", "b c", "ab c"});
  EXPECT_EQ(b.encode("abc", false, false), (Ids{258}));  // a+b, then ab+c
}

TEST(TokenizerBpe, EqualRanksMergeLeftmostFirst) {
  const Tokenizer t = make({"aa"}, {"a a"});
  EXPECT_EQ(t.encode("aaa", false, false), (Ids{256, 'a'}));
  EXPECT_EQ(t.encode("aaaa", false, false), (Ids{256, 256}));
}

TEST(TokenizerBpe, SpaceIsByteCharacterG) {
  // ' ' (0x20) is written as U+0120 "Ġ" in GPT-2's mapping.
  EXPECT_EQ(byte_char(' '), "\xc4\xa0");
  const Tokenizer t = make({"\xc4\xa0" "a"}, {"\xc4\xa0 a"});
  EXPECT_EQ(t.encode("a a", false, false), (Ids{'a', 256}));
  EXPECT_EQ(t.token_to_piece(256), " a");
  EXPECT_EQ(t.token_to_piece('\n'), "\n");
}

TEST(TokenizerBpe, IgnoreMergesTakesWholeWordsInLlama3Family) {
  // "abc" is a token but no merges lead to it.
  const Tokenizer gpt2 = make({"abc"}, {"x y"}, "gpt-2");
  EXPECT_EQ(gpt2.encode("abc", false, false), (Ids{'a', 'b', 'c'}));
  const Tokenizer llama3 = make({"abc"}, {"x y"}, "llama-bpe");
  EXPECT_EQ(llama3.encode("abc", false, false), (Ids{256}));
  EXPECT_EQ(llama3.encode("abcabc", false, false), (Ids{'a', 'b', 'c', 'a', 'b', 'c'}));
  const Tokenizer smaug = make({"abc"}, {"x y"}, "smaug-bpe");  // llama3 regex, merges honoured
  EXPECT_EQ(smaug.encode("abc", false, false), (Ids{'a', 'b', 'c'}));
}

TEST(TokenizerBpe, InvalidUtf8BecomesReplacementCharacterBytes) {
  // 0xFF cannot start a sequence: llama.cpp reads it as U+FFFD = EF BF BD.
  const Tokenizer t = make({}, {"x y"});
  EXPECT_EQ(t.encode("a\xff", false, false), (Ids{'a', 0xEF, 0xBF, 0xBD}));
  // A truncated 3-byte sequence: each byte is replaced on its own.
  EXPECT_EQ(t.encode("\xe2\x82", false, false), (Ids{0xEF, 0xBF, 0xBD, 0xEF, 0xBF, 0xBD}));
  // Valid multi-byte text goes through byte for byte.
  EXPECT_EQ(t.encode("\xc3\xa9", false, false), (Ids{0xC3, 0xA9}));
  EXPECT_EQ(t.decode({0xC3, 0xA9}), "\xc3\xa9");
}

TEST(TokenizerBpe, SpecialTokensArePartitionedFirst) {
  // ids: <|eot_id|> 256 (control), <tool> 257 (user-defined)
  const Tokenizer t = make({"<|eot_id|>", "<tool>"}, {"x y"}, "gpt-2", {3, 4});
  EXPECT_EQ(t.eot_id(), 256);
  EXPECT_TRUE(t.is_control(256));
  EXPECT_TRUE(t.is_eog(256));
  EXPECT_FALSE(t.is_control(257));
  // Control tokens only with parse_special; user-defined ones always.
  EXPECT_EQ(t.encode("a<|eot_id|><tool>", false, true), (Ids{'a', 256, 257}));
  const Ids plain = t.encode("a<|eot_id|><tool>", false, false);
  EXPECT_EQ(plain.back(), 257);
  EXPECT_EQ(plain.size(), 1u + 10u + 1u);  // a, the 10 characters of <|eot_id|> as bytes, <tool>
  // Control pieces are hidden unless asked for; user-defined ones are shown.
  EXPECT_EQ(t.token_to_piece(256), "");
  EXPECT_EQ(t.token_to_piece(256, true), "<|eot_id|>");
  EXPECT_EQ(t.decode({'a', 256, 257}), "a<tool>");
  EXPECT_EQ(t.decode({'a', 256, 257}, true), "a<|eot_id|><tool>");
}

TEST(TokenizerBpe, BosDefaultsFollowLlamaCpp) {
  const Tokenizer gpt2 = make({}, {"x y"}, "gpt-2");
  EXPECT_FALSE(gpt2.add_bos());
  EXPECT_EQ(gpt2.encode("a", true, false), (Ids{'a'}));
  const Tokenizer llama3 = make({}, {"x y"}, "llama3");
  EXPECT_TRUE(llama3.add_bos());
  EXPECT_EQ(llama3.encode("a", true, false), (Ids{255, 'a'}));  // bos = last id (255)
  EXPECT_EQ(llama3.encode("a", false, false), (Ids{'a'}));
  tenx::Metadata m = gpt2_vocab({}, {"x y"}, "qwen2");
  m.set("tokenizer.ggml.add_bos_token", tenx::GgufValue::boolean(true));
  m.set("tokenizer.ggml.add_eos_token", tenx::GgufValue::boolean(true));
  const Tokenizer q = Tokenizer::from_metadata(m, "q.gguf");
  EXPECT_EQ(q.encode("a", true, false), (Ids{255, 'a', 255}));
  EXPECT_EQ(q.pre(), "qwen2");
  EXPECT_EQ(q.model(), "gpt2");
}

TEST(TokenizerBpe, DecodeCleansSpacesLikeLlamaCpp) {
  const std::string text = "a ,b . it 's";
  const Tokenizer gpt2 = make({}, {"x y"}, "gpt-2");  // clean_spaces
  EXPECT_EQ(gpt2.decode(gpt2.encode(text, false, false)), "a,b. it's");
  const Tokenizer qwen2 = make({}, {"x y"}, "qwen2");  // no clean_spaces
  EXPECT_EQ(qwen2.decode(qwen2.encode(text, false, false)), text);
}

TEST(TokenizerBpe, MissingPreMeansLlamaCppDefaultChain) {
  const Tokenizer t = make({"12", "123"}, {"1 2", "12 3"}, "");
  EXPECT_EQ(t.pre(), "default");
  // [0-9]{3} runs first cut "12345" into "123" + "45".
  EXPECT_EQ(t.encode("12345", false, false), (Ids{257, '4', '5'}));
}

}  // namespace
