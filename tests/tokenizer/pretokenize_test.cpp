// The hand-written pre-tokenizers against the regexes they stand for
// (docs/gguf-format.md §4): expected words worked out by hand from the regex
// semantics (leftmost alternative, greedy, (?!\S) backing off one space).
#include <gtest/gtest.h>

#include "model/tokenizer_impl.hpp"
#include "model/tokenizer_unicode.hpp"

namespace {

using tenx::PreSplit;
using Words = std::vector<std::string>;

Words split(PreSplit kind, const std::string& text) {
  const std::vector<uint32_t> cpts = tenx::unicode::decode_utf8(text);
  const std::vector<size_t> lens = tenx::pre_split_words(cpts, kind);
  Words out;
  size_t start = 0;
  for (size_t n : lens) {
    std::string w;
    for (size_t i = start; i < start + n; ++i) tenx::unicode::append_utf8(w, cpts[i]);
    out.push_back(w);
    start += n;
  }
  EXPECT_EQ(start, cpts.size());
  return out;
}

TEST(PreTokenize, Gpt2) {
  const auto k = PreSplit::Gpt2;
  EXPECT_EQ(split(k, ""), Words{});
  EXPECT_EQ(split(k, "Hello world"), (Words{"Hello", " world"}));
  EXPECT_EQ(split(k, "I'm here"), (Words{"I", "'m", " here"}));
  EXPECT_EQ(split(k, "don't DON'T"), (Words{"don", "'t", " DON", "'", "T"}));  // case-sensitive
  EXPECT_EQ(split(k, "  hi"), (Words{" ", " hi"}));                            // \s+(?!\S)
  EXPECT_EQ(split(k, "x   y"), (Words{"x", "  ", " y"}));
  EXPECT_EQ(split(k, "end  "), (Words{"end", "  "}));
  EXPECT_EQ(split(k, "3.14!!"), (Words{"3", ".", "14", "!!"}));
  EXPECT_EQ(split(k, " 123abc"), (Words{" 123", "abc"}));
  EXPECT_EQ(split(k, "\t\n"), (Words{"\t\n"}));
  EXPECT_EQ(split(k, "na\xc3\xafve caf\xc3\xa9"), (Words{"na\xc3\xafve", " caf\xc3\xa9"}));  // ï é are \p{L}
  EXPECT_EQ(split(k, "a\xc2\xa0" "b"), (Words{"a", "\xc2\xa0", "b"}));  // NBSP is \s
  EXPECT_EQ(split(k, "\xd9\xa3\xd9\xa4x"), (Words{"\xd9\xa3\xd9\xa4", "x"}));  // Arabic-Indic digits are \p{N}
}

TEST(PreTokenize, Llama3) {
  const auto k = PreSplit::Llama3;
  EXPECT_EQ(split(k, "Hello world"), (Words{"Hello", " world"}));
  EXPECT_EQ(split(k, "DON'T"), (Words{"DON", "'T"}));  // (?i:'t)
  EXPECT_EQ(split(k, "1234567"), (Words{"123", "456", "7"}));
  EXPECT_EQ(split(k, "x\n\ny"), (Words{"x", "\n\n", "y"}));
  EXPECT_EQ(split(k, "a  \n  b"), (Words{"a", "  \n", " ", " b"}));
  EXPECT_EQ(split(k, "hello!!\n\nworld"), (Words{"hello", "!!\n\n", "world"}));
  EXPECT_EQ(split(k, " ?!"), (Words{" ?!"}));
  EXPECT_EQ(split(k, "\xe2\x82\xac" "100"), (Words{"\xe2\x82\xac", "100"}));  // € is \p{S}
  EXPECT_EQ(split(k, "\tword"), (Words{"\tword"}));  // [^\r\n\p{L}\p{N}]?\p{L}+
  EXPECT_EQ(split(k, "a 12"), (Words{"a", " ", "12"}));
}

TEST(PreTokenize, Qwen2SplitsSingleDigits) {
  EXPECT_EQ(split(PreSplit::Qwen2, "1234"), (Words{"1", "2", "3", "4"}));
  EXPECT_EQ(split(PreSplit::Qwen2, "abc 12"), (Words{"abc", " ", "1", "2"}));
  EXPECT_EQ(split(PreSplit::Qwen2, "It's"), (Words{"It", "'s"}));
}

TEST(PreTokenize, DigitsThenGpt2) {
  EXPECT_EQ(split(PreSplit::DigitsGpt2, "abc123 x"), (Words{"abc", "1", "2", "3", " x"}));
}

TEST(PreTokenize, LlamaCppDefaultChain) {
  EXPECT_EQ(split(PreSplit::Default, "a+b=42,000"), (Words{"a", "+", "b", "=", "42", ",", "000"}));
  EXPECT_EQ(split(PreSplit::Default, "12345"), (Words{"123", "45"}));
}

TEST(Unicode, InvalidUtf8IsReplacedBytewise) {
  using V = std::vector<uint32_t>;
  EXPECT_EQ(tenx::unicode::decode_utf8("a\xff" "b"), (V{'a', 0xFFFD, 'b'}));
  EXPECT_EQ(tenx::unicode::decode_utf8("\xe2\x82"), (V{0xFFFD, 0xFFFD}));
  EXPECT_EQ(tenx::unicode::decode_utf8("\xe2\x82\xac"), (V{0x20AC}));
  EXPECT_EQ(tenx::unicode::decode_utf8("\xf0\x9f\xa6\x99"), (V{0x1F999}));
  EXPECT_EQ(tenx::unicode::decode_utf8("\xf4\x90\x80\x80"), (V{0xFFFD, 0xFFFD, 0xFFFD, 0xFFFD}));  // > U+10FFFF
}

TEST(Unicode, Categories) {
  using namespace tenx::unicode;
  EXPECT_TRUE(cpt_flags('a') & kLetter);
  EXPECT_TRUE(cpt_flags(0x4E2D) & kLetter);   // 中
  EXPECT_TRUE(cpt_flags('7') & kNumber);
  EXPECT_TRUE(cpt_flags(0x00BD) & kNumber);   // ½ (No)
  EXPECT_TRUE(cpt_flags(0x2003) & kWhitespace);
  EXPECT_TRUE(cpt_flags(0x0085) & kWhitespace);
  EXPECT_FALSE(cpt_flags(0x200B) & kWhitespace);  // zero width space is Cf
  EXPECT_FALSE(cpt_flags(0x001C) & kWhitespace);  // not White_Space (Python's isspace differs)
  EXPECT_TRUE(cpt_flags(0x0301) & kMark);
  EXPECT_TRUE(cpt_flags(0x20AC) & kSymbol);
  EXPECT_TRUE(cpt_flags(0x00BF) & kPunctuation);
  EXPECT_TRUE(cpt_flags(0x0378) & kControl);  // unassigned counts as \p{C}
}

}  // namespace
