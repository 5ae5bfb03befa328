#pragma once
// A byte-level BPE trainer. Its output is a llama.cpp-compatible `gpt2`
// vocabulary: the 256 byte tokens in GPT-2's byte-to-unicode order, the special
// tokens, then one token per merge, with tokenizer.ggml.pre = "qwen2". That
// pre-tokenizer splits every digit into its own word (the regex's single \p{N}),
// so no merge ever joins digits and numbers reach the model digit by digit, which
// is what makes arithmetic learnable; llama.cpp and tenx select the same splitter
// by that name, so both tokenize the trained models identically.
#include <cstdint>
#include <string>
#include <vector>

#include "tenx/model/metadata.hpp"

namespace tenx::train {

struct BpeOptions {
  int64_t vocab_size = 512;  // bytes + specials + merges
  // Text of the end-of-text token (control; also BOS and EOS).
  std::string eos = "<|endoftext|>";
  // User-defined tokens: matched in any text as one token (image placeholder,
  // tool-call markers).
  std::vector<std::string> user_tokens;
};

// The special tokens tenx's suites use: <image> and the tool-call markers of
// docs/tool-calls.md.
std::vector<std::string> suite_special_tokens();

// Splits text the way the qwen2 pre-tokenizer does, for counting words (ASCII
// classes; bytes >= 0x80 count as letters). Exposed for tests.
std::vector<std::string> bpe_pretokenize(const std::string& text);

// Learns merges from `texts` (most frequent adjacent pair first; ties broken by
// the smaller pair of token ids, so the result is deterministic) until the
// vocabulary has vocab_size tokens or no pair occurs twice. Returns the
// tokenizer.ggml.* keys. Throws tenx::Error("bpe", ...) when vocab_size is below
// 256 + specials + 1.
Metadata train_bpe(const std::vector<std::string>& texts, const BpeOptions& options);

}  // namespace tenx::train
