// SentencePiece-style BPE (tokenizer.ggml.model = llama), as llama.cpp's
// llm_tokenizer_spm_session: start from UTF-8 characters, repeatedly merge the
// adjacent pair whose concatenation is the vocabulary entry with the highest score
// (ties: leftmost), then emit each piece, or its bytes as <0xNN> tokens when the
// piece is not in the vocabulary. The caller has already escaped spaces as U+2581.
#include <queue>
#include <vector>

#include "tokenizer_impl.hpp"
#include "tokenizer_unicode.hpp"

namespace tenx {

namespace {

struct Piece {
  int32_t prev, next;
  uint32_t begin, len;
};

struct Candidate {
  float score;
  int32_t left, right;
  uint32_t len;  // bytes of the merged text (stale check)
};

struct CandidateOrder {  // highest score first, then leftmost
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

// A character (up to 4 bytes, cut like the merge loop cuts them) packed into 32 bits.
uint32_t pack_char(std::string_view s) {
  uint32_t v = 0;
  for (char c : s) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

uint64_t pair_key(std::string_view a, std::string_view b) {
  return (static_cast<uint64_t>(pack_char(a)) << 32) | pack_char(b);
}

}  // namespace

void Tokenizer::Impl::init_spm_pairs() {
  for (const TokenData& t : tokens) {
    std::string_view s = t.text, prev;
    for (size_t off = 0; off < s.size();) {
      const size_t len = std::min(s.size() - off, unicode::utf8_len(s[off]));
      const std::string_view ch = s.substr(off, len);
      if (!prev.empty()) spm_inner_pairs.insert(pair_key(prev, ch));
      prev = ch;
      off += len;
    }
  }
}

void Tokenizer::Impl::encode_spm(std::string_view text, std::vector<int32_t>& out) const {
  size_t seg_begin = 0;
  std::string_view prev;
  for (size_t off = 0; off < text.size();) {
    const size_t len = std::min(text.size() - off, unicode::utf8_len(text[off]));
    const std::string_view ch = text.substr(off, len);
    if (!prev.empty() && !spm_inner_pairs.count(pair_key(prev, ch))) {
      encode_spm_segment(text.substr(seg_begin, off - seg_begin), out);
      seg_begin = off;
    }
    prev = ch;
    off += len;
  }
  if (seg_begin < text.size()) encode_spm_segment(text.substr(seg_begin), out);
}

void Tokenizer::Impl::encode_spm_segment(std::string_view text, std::vector<int32_t>& out) const {
  std::vector<Piece> pieces;
  for (size_t off = 0; off < text.size();) {
    const size_t len = std::min(text.size() - off, unicode::utf8_len(text[off]));
    const int32_t idx = static_cast<int32_t>(pieces.size());
    pieces.push_back(Piece{idx - 1, off + len == text.size() ? -1 : idx + 1,
                           static_cast<uint32_t>(off), static_cast<uint32_t>(len)});
    off += len;
  }

  std::priority_queue<Candidate, std::vector<Candidate>, CandidateOrder> queue;
  auto try_pair = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const uint32_t len = pieces[left].len + pieces[right].len;
    const int32_t id = find(text.substr(pieces[left].begin, len));
    if (id < 0) return;
    queue.push(Candidate{tokens[id].score, left, right, len});
  };
  for (int32_t i = 1; i < static_cast<int32_t>(pieces.size()); ++i) try_pair(i - 1, i);

  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Piece& l = pieces[c.left];
    Piece& r = pieces[c.right];
    if (l.len == 0 || r.len == 0 || l.len + r.len != c.len) continue;
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) pieces[r.next].prev = c.left;
    try_pair(l.prev, c.left);
    try_pair(c.left, l.next);
  }

  if (pieces.empty()) return;
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (int32_t i = 0; i != -1; i = pieces[i].next) {
    const std::string_view piece = text.substr(pieces[i].begin, pieces[i].len);
    const int32_t id = find(piece);
    if (id >= 0) {
      out.push_back(id);
      continue;
    }
    // Byte fallback: <0xNN>, else the byte as a one-character token; a vocabulary
    // with neither (llama.cpp aborts there) gets the unknown token, if any.
    for (char ch : piece) {
      const auto b = static_cast<uint8_t>(ch);
      const char hex[6] = {'<', '0', 'x', kHex[b >> 4], kHex[b & 15], '>'};
      int32_t byte_id = find(std::string_view(hex, 6));
      if (byte_id < 0) byte_id = find(std::string_view(&ch, 1));
      if (byte_id < 0) byte_id = unk;
      if (byte_id >= 0) out.push_back(byte_id);
    }
  }
}

}  // namespace tenx
