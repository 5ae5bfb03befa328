// Byte-level BPE (tokenizer.ggml.model = gpt2), as llama.cpp's llm_tokenizer_bpe_session:
// pre-tokenize into words, write each word's bytes with GPT-2's byte -> unicode
// mapping, then repeatedly merge the adjacent pair with the lowest merge rank
// (ties: leftmost). Pairs are looked up by symbol ids, not by building strings.
#include <fmt/format.h>

#include <queue>
#include <vector>

#include "tokenizer_impl.hpp"
#include "tokenizer_unicode.hpp"

namespace tenx {

void init_byte_mapping(Tokenizer::Impl& impl) {
  // bytes_to_unicode(): printable Latin-1 bytes map to themselves, the other 68
  // bytes to U+0100, U+0101, ... in byte order.
  std::array<uint32_t, 256> cpt{};
  std::array<bool, 256> direct{};
  for (int b = 0x21; b <= 0x7E; ++b) direct[b] = true;
  for (int b = 0xA1; b <= 0xAC; ++b) direct[b] = true;
  for (int b = 0xAE; b <= 0xFF; ++b) direct[b] = true;
  uint32_t next = 256;
  for (int b = 0; b < 256; ++b) cpt[b] = direct[b] ? static_cast<uint32_t>(b) : next++;
  impl.unicode_to_byte.assign(next, -1);
  for (int b = 0; b < 256; ++b) {
    impl.byte_to_utf8[b].clear();
    unicode::append_utf8(impl.byte_to_utf8[b], cpt[b]);
    impl.unicode_to_byte[cpt[b]] = static_cast<int16_t>(b);
  }
}

namespace {

struct Symbol {
  int32_t id;      // symbol id (vocabulary id, or a merge-only string, or -1)
  int32_t prev, next;
  uint32_t begin, len;  // bytes of the encoded word
};

struct Bigram {
  int32_t rank;
  int32_t left, right;         // symbol indices
  int32_t left_id, right_id;   // what they held when queued (stale check)
  int32_t result;
};

struct BigramOrder {  // std::priority_queue keeps the "largest": lowest rank, then leftmost
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

}  // namespace

void Tokenizer::Impl::encode_bpe(std::string_view text, std::vector<int32_t>& out) const {
  const std::vector<uint32_t> cpts = unicode::decode_utf8(text);
  const std::vector<size_t> words = pre_split_words(cpts, pre_split);

  std::string word;
  std::vector<Symbol> symbols;
  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
  std::string one_char;

  auto try_pair = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const int32_t a = symbols[left].id, b = symbols[right].id;
    if (a < 0 || b < 0) return;
    auto it = merges.find((static_cast<uint64_t>(a) << 32) | static_cast<uint32_t>(b));
    if (it == merges.end()) return;
    queue.push(Bigram{it->second.rank, left, right, a, b, it->second.result});
  };

  size_t start = 0;
  for (size_t n_cpts : words) {
    // The word's UTF-8 bytes, each written as its GPT-2 unicode stand-in.
    word.clear();
    for (size_t i = start; i < start + n_cpts; ++i) {
      one_char.clear();
      unicode::append_utf8(one_char, cpts[i]);
      for (char byte : one_char) word += byte_to_utf8[static_cast<uint8_t>(byte)];
    }
    start += n_cpts;

    if (ignore_merges) {  // llama3: a word that is a token is taken whole
      const int32_t id = find(word);
      if (id >= 0) {
        out.push_back(id);
        continue;
      }
    }

    symbols.clear();
    for (size_t off = 0; off < word.size();) {
      const size_t len = std::min(word.size() - off, unicode::utf8_len(word[off]));
      auto it = symbol_ids.find(std::string_view(word).substr(off, len));
      const int32_t idx = static_cast<int32_t>(symbols.size());
      symbols.push_back(Symbol{it == symbol_ids.end() ? -1 : it->second, idx - 1,
                               off + len == word.size() ? -1 : idx + 1, static_cast<uint32_t>(off),
                               static_cast<uint32_t>(len)});
      off += len;
    }
    for (int32_t i = 1; i < static_cast<int32_t>(symbols.size()); ++i) try_pair(i - 1, i);

    while (!queue.empty()) {
      const Bigram bg = queue.top();
      queue.pop();
      Symbol& l = symbols[bg.left];
      Symbol& r = symbols[bg.right];
      if (l.len == 0 || r.len == 0 || l.id != bg.left_id || r.id != bg.right_id) continue;
      l.len += r.len;
      l.id = bg.result;
      r.len = 0;
      l.next = r.next;
      if (r.next >= 0) symbols[r.next].prev = bg.left;
      try_pair(l.prev, bg.left);
      try_pair(bg.left, l.next);
    }

    for (const Symbol& s : symbols) {
      if (s.len == 0) continue;
      if (s.id >= 0 && s.id < n_vocab()) {
        out.push_back(s.id);
        continue;
      }
      // Not a token: each byte of the encoded text that is itself a token
      // (llama.cpp's fallback; other bytes are dropped).
      for (uint32_t k = 0; k < s.len; ++k) {
        const int32_t id = find(std::string_view(word).substr(s.begin + k, 1));
        if (id >= 0) out.push_back(id);
      }
    }
  }
}

std::string Tokenizer::Impl::bpe_decode_text(const std::string& text) const {
  std::string out;
  for (uint32_t cpt : unicode::decode_utf8(text)) {
    if (cpt < unicode_to_byte.size() && unicode_to_byte[cpt] >= 0) {
      out.push_back(static_cast<char>(unicode_to_byte[cpt]));
      continue;
    }
    // llama.cpp's llama_decode_text marks characters outside the mapping this way.
    std::string utf8;
    unicode::append_utf8(utf8, cpt);
    out += "[UNK_BYTE_0x";
    for (char c : utf8) out += fmt::format("{:02x}", static_cast<uint8_t>(c));
    out += text + "]";
  }
  return out;
}

}  // namespace tenx
