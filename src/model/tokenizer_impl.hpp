#pragma once
// Private state of tenx::Tokenizer, shared by tokenizer*.cpp. The names and rules
// mirror llama.cpp's llama-vocab.cpp / unicode.cpp so the two can be read side by side.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tenx/model/tokenizer.hpp"

namespace tenx {

// Token attributes (llama_token_attr): a token_type from the file sets one of the
// first bits; the loader may add CONTROL / UNUSED / LSTRIP / RSTRIP.
enum TokenAttr : uint32_t {
  kAttrUndefined = 0,
  kAttrUnknown = 1u << 0,
  kAttrUnused = 1u << 1,
  kAttrNormal = 1u << 2,
  kAttrControl = 1u << 3,
  kAttrUserDefined = 1u << 4,
  kAttrByte = 1u << 5,
  kAttrLstrip = 1u << 7,
  kAttrRstrip = 1u << 8,
};

// How a gpt2 vocabulary cuts text into words before BPE (llama.cpp's regex_exprs).
enum class PreSplit {
  Gpt2,        // 's|'t|... ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  Llama3,      // llama3 regex, \p{N}{1,3}
  Qwen2,       // llama3 regex with single digits
  DigitsGpt2,  // \p{N} split first, then the gpt2 regex (smollm, starcoder, ...)
  Default,     // llama.cpp's default chain: punctuation runs, gpt2, \p{N}+, [0-9]{3}
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using StringIdMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

struct TokenData {
  std::string text;
  float score = 0.0f;
  uint32_t attr = kAttrNormal;
};

struct Tokenizer::Impl {
  bool is_bpe = false;  // gpt2; otherwise llama (SentencePiece-style)
  std::string model_name;
  std::string pre_name;
  PreSplit pre_split = PreSplit::Default;

  std::vector<TokenData> tokens;
  StringIdMap text_to_id;

  // BPE merges. Every string that appears as a vocabulary entry or a merge part or
  // result has a symbol id: vocabulary ids first, others numbered from n_vocab up,
  // so a merge is found by the pair of symbol ids (no string building per step).
  StringIdMap symbol_ids;
  struct Merge {
    int32_t rank;
    int32_t result;
  };
  std::unordered_map<uint64_t, Merge> merges;
  // GPT-2 byte <-> unicode mapping: byte b is written as the UTF-8 string
  // byte_to_utf8[b]; unicode_to_byte maps the code point back (-1 when none).
  std::array<std::string, 256> byte_to_utf8;
  // SentencePiece: pairs of adjacent characters that occur inside some token
  // (each character packed into 32 bits). Where two neighbouring characters of
  // the text are no such pair, no merge can ever join them, so the text is cut
  // there and each segment merged on its own: the same result, much smaller queues.
  std::unordered_set<uint64_t> spm_inner_pairs;
  std::vector<int16_t> unicode_to_byte;

  bool ignore_merges = false;
  bool clean_spaces = false;
  bool add_space_prefix = false;
  bool add_bos = false;
  bool add_eos = false;

  int32_t bos = -1, eos = -1, eot = -1, eom = -1, unk = -1, pad = -1;
  std::unordered_set<int32_t> eog;
  // Control / user-defined / unknown tokens, longest text first (partition order).
  std::vector<int32_t> special_tokens;
  // token_to_piece(id, special=true) for every id, built once at load.
  std::vector<std::string> piece_cache;

  int32_t n_vocab() const { return static_cast<int32_t>(tokens.size()); }
  int32_t find(std::string_view text) const {
    auto it = text_to_id.find(text);
    return it == text_to_id.end() ? -1 : it->second;
  }

  // Tokenizes one fragment of plain text (no special tokens inside), appending ids.
  void encode_bpe(std::string_view text, std::vector<int32_t>& out) const;
  void encode_spm(std::string_view text, std::vector<int32_t>& out) const;
  void encode_spm_segment(std::string_view text, std::vector<int32_t>& out) const;
  void init_spm_pairs();
  // token_to_piece before caching.
  std::string compute_piece(int32_t id) const;
  std::string bpe_decode_text(const std::string& text) const;
};

// Builds the byte <-> unicode tables of GPT-2's bytes_to_unicode().
void init_byte_mapping(Tokenizer::Impl& impl);

// Cuts code points into words the way llama.cpp's unicode_regex_split does for
// `kind`; returns the word lengths in code points (they sum to cpts.size()).
std::vector<size_t> pre_split_words(const std::vector<uint32_t>& cpts, PreSplit kind);

}  // namespace tenx
