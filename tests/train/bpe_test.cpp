// The BPE trainer's vocabulary loads as a gpt2/qwen2 tokenizer that keeps digits
// single, matches the special tokens whole, and round-trips text.
#include <gtest/gtest.h>

#include "tenx/model/tokenizer.hpp"
#include "tenx/train/bpe.hpp"
#include "tenx/util/error.hpp"

namespace tenx::train {
namespace {

std::vector<std::string> corpus() {
  std::vector<std::string> texts;
  for (int i = 0; i < 60; ++i)
    texts.push_back("Q: What is " + std::to_string(i * 7 % 100) + " plus " + std::to_string(i * 13 % 100) +
                    "? A: " + std::to_string(i * 7 % 100 + i * 13 % 100) + "\n<image> the patient takes the dose");
  return texts;
}

// Expected pieces written from the qwen2 regex by hand: ` ?[^\s\p{L}\p{N}]+[\r\n]*` takes ":\n"
// together, a space before a digit stands alone, and digits are single.
TEST(TrainBpe, PretokenizerSplitsLikeQwen2) {
  const std::vector<std::string> want = {"Q", ":", " What", " is", " ", "1", "2", "3", "?", " A", ":\n", "it", "'s"};
  EXPECT_EQ(bpe_pretokenize("Q: What is 123? A:\nit's"), want);
}

TEST(TrainBpe, VocabularyTokenizesDigitsSinglyAndSpecialsWhole) {
  BpeOptions opt;
  opt.vocab_size = 280;
  opt.user_tokens = suite_special_tokens();
  const Metadata meta = train_bpe(corpus(), opt);
  EXPECT_EQ(meta.get_string("tokenizer.ggml.pre"), "qwen2");
  const Tokenizer tok = Tokenizer::from_metadata(meta, "bpe");
  EXPECT_EQ(tok.n_vocab(), 280);
  EXPECT_EQ(tok.model(), "gpt2");
  EXPECT_EQ(tok.token_text(tok.eos_id()), "<|endoftext|>");

  // Every digit is its own token, so "12345" is five tokens.
  const auto digits = tok.encode("12345", false, false);
  ASSERT_EQ(digits.size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(tok.token_to_piece(digits[i]), std::string(1, "12345"[i]));
  // Frequent pairs were merged: the corpus' words take fewer tokens than bytes.
  const std::string words = " the patient takes the dose";
  EXPECT_LT(tok.encode(words, false, false).size(), words.size() / 2);
  // The image marker and tool-call markers are single tokens even without parse_special.
  for (const std::string& s : suite_special_tokens()) EXPECT_EQ(tok.encode(s, false, false).size(), 1u) << s;
  // Round trip.
  const std::string text = "Q: What is 47 plus 58? A: 105\n<image> <call>lookup()</call>";
  EXPECT_EQ(tok.decode(tok.encode(text, false, false)), text);
}

TEST(TrainBpe, DeterministicAndRefusesTinyVocabularies) {
  BpeOptions opt;
  opt.vocab_size = 290;
  const Metadata a = train_bpe(corpus(), opt), b = train_bpe(corpus(), opt);
  EXPECT_EQ(a.find("tokenizer.ggml.merges")->strings, b.find("tokenizer.ggml.merges")->strings);
  opt.vocab_size = 257;
  EXPECT_THROW(train_bpe(corpus(), opt), Error);
}

}  // namespace
}  // namespace tenx::train
