#pragma once
// Small hand-built vocabularies for the tokenizer unit tests.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "tenx/model/metadata.hpp"

namespace tok_test {

// GPT-2's bytes_to_unicode(), written out independently of the library: printable
// Latin-1 bytes stand for themselves, the others map to U+0100.. in byte order.
inline std::string byte_char(int b) {
  auto direct = [](int x) { return (x >= 0x21 && x <= 0x7E) || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF); };
  uint32_t cpt = static_cast<uint32_t>(b);
  if (!direct(b)) {
    cpt = 256;
    for (int x = 0; x < b; ++x) cpt += direct(x) ? 0 : 1;
  }
  std::string s;
  if (cpt < 0x80) {
    s += static_cast<char>(cpt);
  } else {
    s += static_cast<char>(0xC0 | (cpt >> 6));
    s += static_cast<char>(0x80 | (cpt & 0x3F));
  }
  return s;
}

// A gpt2 vocabulary: ids 0..255 are the 256 byte characters (id = byte value),
// then `extra` in order; `types` gives token types for the extra tokens (1 when
// shorter). Returns the metadata; the id of extra[i] is 256 + i.
inline tenx::Metadata gpt2_vocab(const std::vector<std::string>& extra, const std::vector<std::string>& merges,
                                 const std::string& pre, const std::vector<int64_t>& extra_types = {}) {
  std::vector<std::string> tokens;
  std::vector<int64_t> types;
  for (int b = 0; b < 256; ++b) tokens.push_back(byte_char(b)), types.push_back(1);
  for (size_t i = 0; i < extra.size(); ++i) {
    tokens.push_back(extra[i]);
    types.push_back(i < extra_types.size() ? extra_types[i] : 1);
  }
  tenx::Metadata m;
  m.set("tokenizer.ggml.model", tenx::GgufValue::str("gpt2"));
  if (!pre.empty()) m.set("tokenizer.ggml.pre", tenx::GgufValue::str(pre));
  m.set("tokenizer.ggml.tokens", tenx::GgufValue::str_array(tokens));
  m.set("tokenizer.ggml.token_type", tenx::GgufValue::i32_array(types));
  m.set("tokenizer.ggml.merges", tenx::GgufValue::str_array(merges));
  m.set("tokenizer.ggml.bos_token_id", tenx::GgufValue::u32(static_cast<uint32_t>(tokens.size() - 1)));
  m.set("tokenizer.ggml.eos_token_id", tenx::GgufValue::u32(static_cast<uint32_t>(tokens.size() - 1)));
  return m;
}

struct SpmToken {
  std::string text;
  float score;
  int64_t type;
};

// A llama (SentencePiece) vocabulary: <unk> <s> </s>, the 256 byte tokens
// <0x00>..<0xFF> (ids 3..258), then `extra` (ids from 259).
inline tenx::Metadata spm_vocab(const std::vector<SpmToken>& extra) {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<double> scores = {0, 0, 0};
  std::vector<int64_t> types = {2, 3, 3};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    tokens.push_back(buf), scores.push_back(0), types.push_back(6);
  }
  for (const SpmToken& t : extra) tokens.push_back(t.text), scores.push_back(t.score), types.push_back(t.type);
  tenx::Metadata m;
  m.set("tokenizer.ggml.model", tenx::GgufValue::str("llama"));
  m.set("tokenizer.ggml.tokens", tenx::GgufValue::str_array(tokens));
  m.set("tokenizer.ggml.scores", tenx::GgufValue::f32_array(scores));
  m.set("tokenizer.ggml.token_type", tenx::GgufValue::i32_array(types));
  return m;
}

inline const std::string kSp = "\xe2\x96\x81";  // U+2581

}  // namespace tok_test
