#pragma once
// Unicode helpers for the tokenizers: UTF-8 decoding with llama.cpp's handling of
// invalid input, and the code point categories the pre-tokenizer regexes use
// (\p{L}, \p{N}, \s ...), taken from ICU.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tenx::unicode {

// Category bits of a code point (one general-category bit plus kWhitespace).
// Zero is reserved for "no code point" (past the end of a word), which no regex
// class matches; every real code point has exactly one category bit.
enum CpFlag : uint16_t {
  kNumber = 1u << 1,       // \p{N}
  kLetter = 1u << 2,       // \p{L}
  kSeparator = 1u << 3,    // \p{Z}
  kMark = 1u << 4,         // \p{M}
  kPunctuation = 1u << 5,  // \p{P}
  kSymbol = 1u << 6,       // \p{S}
  kControl = 1u << 7,      // \p{C} (includes unassigned code points)
  kWhitespace = 1u << 8,   // \s: the Unicode White_Space property
};

uint16_t cpt_flags(uint32_t cpt);

// Length of a UTF-8 sequence from its first byte (1 for continuation bytes), as
// llama.cpp's unicode_len_utf8: used to cut text into "characters" for merging.
inline size_t utf8_len(char lead) {
  static constexpr uint8_t kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLen[static_cast<uint8_t>(lead) >> 4];
}

// Code points of `text`; each byte that does not start a well-formed sequence
// becomes U+FFFD and decoding resumes at the next byte (llama.cpp's
// unicode_cpts_from_utf8). Like llama.cpp, overlong forms and surrogates decode
// as they are; sequences above U+10FFFF count as invalid.
std::vector<uint32_t> decode_utf8(std::string_view text);

void append_utf8(std::string& out, uint32_t cpt);

}  // namespace tenx::unicode
