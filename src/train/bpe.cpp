// Byte-level BPE training (Sennrich et al. 2016 over bytes, as GPT-2): count the
// words of the pre-tokenized text once, then repeatedly merge the most frequent
// adjacent pair of symbols, updating the pair counts of the words that changed.
#include "tenx/train/bpe.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <unordered_map>

#include "tenx/model/model_init.hpp"
#include "tenx/util/error.hpp"

namespace tenx::train {

namespace {

enum class CharClass { Letter, Digit, Newline, Space, Other };

CharClass classify(unsigned char c) {
  if (c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return CharClass::Letter;
  if (c >= '0' && c <= '9') return CharClass::Digit;
  if (c == '\n' || c == '\r') return CharClass::Newline;
  if (c == ' ' || c == '\t' || c == '\v' || c == '\f') return CharClass::Space;
  return CharClass::Other;
}

bool is_ws(CharClass k) { return k == CharClass::Space || k == CharClass::Newline; }

// Length of the qwen2 pattern's match at i (alternatives in the regex's order).
size_t match_length(const std::string& s, size_t i) {
  const size_t n = s.size();
  auto cls = [&](size_t j) { return j < n ? classify(static_cast<unsigned char>(s[j])) : CharClass::Newline; };
  auto letters_from = [&](size_t j) {
    while (j < n && cls(j) == CharClass::Letter) ++j;
    return j;
  };
  // 's 't 're 've 'm 'll 'd
  if (s[i] == '\'' && i + 1 < n) {
    const char a = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i + 1])));
    const char b = i + 2 < n ? static_cast<char>(std::tolower(static_cast<unsigned char>(s[i + 2]))) : '\0';
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  }
  const CharClass k = cls(i);
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (k == CharClass::Letter) return letters_from(i) - i;
  if (k != CharClass::Newline && k != CharClass::Digit && cls(i + 1) == CharClass::Letter && i + 1 < n)
    return letters_from(i + 1) - i;
  // \p{N}
  if (k == CharClass::Digit) return 1;
  // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
  {
    size_t j = i;
    if (s[j] == ' ' && cls(j + 1) == CharClass::Other && j + 1 < n) ++j;
    if (cls(j) == CharClass::Other && j < n) {
      while (j < n && cls(j) == CharClass::Other) ++j;
      while (j < n && cls(j) == CharClass::Newline) ++j;
      return j - i;
    }
  }
  // Whitespace: \s*[\r\n]+ | \s+(?!\S) | \s+
  size_t end = i;
  size_t last_newline = 0;
  while (end < n && is_ws(cls(end))) {
    if (cls(end) == CharClass::Newline) last_newline = end + 1;
    ++end;
  }
  if (last_newline > i) return last_newline - i;
  if (end < n && end - i > 1) return end - i - 1;  // leave one space to lead the next word
  return end - i;
}

uint64_t pair_key(int32_t a, int32_t b) { return (static_cast<uint64_t>(a) << 32) | static_cast<uint32_t>(b); }

struct Word {
  std::vector<int32_t> symbols;
  int64_t count;
};

}  // namespace

std::vector<std::string> suite_special_tokens() {
  return {"<image>", "<call>", "</call>", "<result>", "</result>", "<answer>", "</answer>"};
}

std::vector<std::string> bpe_pretokenize(const std::string& text) {
  std::vector<std::string> out;
  for (size_t i = 0; i < text.size();) {
    const size_t len = std::max<size_t>(1, match_length(text, i));
    out.push_back(text.substr(i, len));
    i += len;
  }
  return out;
}

Metadata train_bpe(const std::vector<std::string>& texts, const BpeOptions& opt) {
  const int64_t fixed = 256 + 1 + static_cast<int64_t>(opt.user_tokens.size());
  if (opt.vocab_size < fixed + 1 || opt.vocab_size > (int64_t{1} << 24))
    throw Error("bpe", fmt::format("vocabulary size {} must be in [{}, 2^24]: 256 byte tokens, {} special tokens and "
                                   "at least one merge",
                                   opt.vocab_size, fixed + 1, fixed - 256));
  std::vector<std::string> tokens;
  std::vector<int64_t> types;
  std::unordered_map<std::string, int32_t> id_of;
  auto add_token = [&](const std::string& text, int64_t type) {
    if (id_of.contains(text)) throw Error("bpe", fmt::format("token '{}' given twice", text));
    id_of[text] = static_cast<int32_t>(tokens.size());
    tokens.push_back(text);
    types.push_back(type);
  };
  // Bytes in GPT-2 order (id order of make_byte_level_vocab), then the specials.
  std::vector<int32_t> byte_id(256);
  {
    std::vector<std::pair<std::string, int>> bytes;
    auto printable = [](int b) { return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255); };
    for (int pass = 0; pass < 2; ++pass)
      for (int b = 0; b < 256; ++b)
        if (printable(b) == (pass == 0)) {
          byte_id[b] = static_cast<int32_t>(tokens.size());
          add_token(gpt2_byte_token(static_cast<uint8_t>(b)), 1);
        }
  }
  const int32_t eos = static_cast<int32_t>(tokens.size());
  add_token(opt.eos, 3);
  for (const std::string& t : opt.user_tokens) add_token(t, 4);

  // Word counts; special-token texts are cut out first (they are single tokens).
  std::map<std::string, int64_t> counts;
  std::vector<std::string> specials = opt.user_tokens;
  specials.push_back(opt.eos);
  for (const std::string& text : texts) {
    size_t start = 0;
    while (start <= text.size()) {
      size_t cut = std::string::npos, cut_len = 0;
      for (const std::string& sp : specials) {
        const size_t p = text.find(sp, start);
        if (p < cut) cut = p, cut_len = sp.size();
      }
      const std::string piece = text.substr(start, cut == std::string::npos ? std::string::npos : cut - start);
      for (std::string& w : bpe_pretokenize(piece)) ++counts[w];
      if (cut == std::string::npos) break;
      start = cut + cut_len;
    }
  }
  std::vector<Word> words;
  for (const auto& [w, count] : counts) {
    Word word{{}, count};
    for (unsigned char c : w) word.symbols.push_back(byte_id[c]);
    if (word.symbols.size() > 1) words.push_back(std::move(word));
  }
  std::unordered_map<uint64_t, int64_t> pairs;
  auto count_pairs = [&](const Word& w, int64_t sign) {
    for (size_t i = 0; i + 1 < w.symbols.size(); ++i) pairs[pair_key(w.symbols[i], w.symbols[i + 1])] += sign * w.count;
  };
  for (const Word& w : words) count_pairs(w, 1);

  std::vector<std::string> merges;
  while (static_cast<int64_t>(tokens.size()) < opt.vocab_size) {
    uint64_t best = 0;
    int64_t best_count = 1;
    for (const auto& [key, count] : pairs)
      if (count > best_count || (count == best_count && count > 1 && key < best)) best = key, best_count = count;
    if (best_count < 2) break;  // nothing occurs twice: more merges would only memorise
    const auto a = static_cast<int32_t>(best >> 32), b = static_cast<int32_t>(best & 0xffffffffu);
    const std::string merged = tokens[a] + tokens[b];
    merges.push_back(tokens[a] + " " + tokens[b]);
    auto it = id_of.find(merged);
    const int32_t id = it != id_of.end() ? it->second : static_cast<int32_t>(tokens.size());
    if (it == id_of.end()) add_token(merged, 1);
    for (Word& w : words) {
      bool has = false;
      for (size_t i = 0; i + 1 < w.symbols.size() && !has; ++i) has = w.symbols[i] == a && w.symbols[i + 1] == b;
      if (!has) continue;
      count_pairs(w, -1);
      std::vector<int32_t> out;
      for (size_t i = 0; i < w.symbols.size(); ++i) {
        if (i + 1 < w.symbols.size() && w.symbols[i] == a && w.symbols[i + 1] == b) {
          out.push_back(id);
          ++i;
        } else {
          out.push_back(w.symbols[i]);
        }
      }
      w.symbols = std::move(out);
      count_pairs(w, 1);
    }
    for (auto p = pairs.begin(); p != pairs.end();) p = p->second == 0 ? pairs.erase(p) : std::next(p);
  }
  if (merges.empty()) throw Error("bpe", "the training text has no pair of symbols that occurs twice");

  Metadata m;
  m.set("tokenizer.ggml.model", GgufValue::str("gpt2"));
  m.set("tokenizer.ggml.pre", GgufValue::str("qwen2"));
  m.set("tokenizer.ggml.tokens", GgufValue::str_array(tokens));
  m.set("tokenizer.ggml.token_type", GgufValue::i32_array(types));
  m.set("tokenizer.ggml.merges", GgufValue::str_array(merges));
  m.set("tokenizer.ggml.bos_token_id", GgufValue::u32(static_cast<uint32_t>(eos)));
  m.set("tokenizer.ggml.eos_token_id", GgufValue::u32(static_cast<uint32_t>(eos)));
  m.set("tokenizer.ggml.padding_token_id", GgufValue::u32(static_cast<uint32_t>(eos)));
  m.set("tokenizer.ggml.add_bos_token", GgufValue::boolean(true));  // documents start with it in training
  m.set("tokenizer.ggml.add_eos_token", GgufValue::boolean(false));
  return m;
}

}  // namespace tenx::train
