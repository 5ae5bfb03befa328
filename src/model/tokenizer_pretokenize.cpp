// Pre-tokenizers of the gpt2 vocabularies: the regexes of docs/gguf-format.md §4
// written out by hand as llama.cpp's unicode.cpp does (unicode_regex_split_custom_*),
// so the words agree with llama.cpp exactly and no regex engine runs per token.
// Each splitter takes the current word boundaries ("chunks", lengths in code points)
// and cuts every chunk further, like one entry of llama.cpp's regex_exprs list.
#include <cstdint>
#include <vector>

#include "tokenizer_impl.hpp"
#include "tokenizer_unicode.hpp"

namespace tenx {

namespace {

using unicode::kLetter;
using unicode::kNumber;
using unicode::kPunctuation;
using unicode::kWhitespace;

constexpr uint32_t kNoCpt = 0xFFFFFFFF;

// Code points and their category flags, read through one chunk [ini, end):
// positions outside it read as kNoCpt / 0, which no character class matches.
struct Text {
  const std::vector<uint32_t>& cpts;
  const std::vector<uint16_t>& flags;
};

struct Chunk {
  const Text& t;
  size_t ini, end;
  uint32_t cpt(size_t p) const { return p >= ini && p < end ? t.cpts[p] : kNoCpt; }
  uint16_t flags(size_t p) const { return p >= ini && p < end ? t.flags[p] : 0; }
};

// Appends the piece from the previous cut to `end` (empty pieces are dropped).
struct Cutter {
  std::vector<size_t>& out;
  size_t prev;
  size_t cut(size_t end) {
    const size_t len = end - prev;
    if (len > 0) out.push_back(len);
    prev = end;
    return len;
  }
};

uint32_t ascii_lower(uint32_t c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

// 's 't 're 've 'm 'll 'd at pos: the length of the contraction, or 0.
size_t contraction(const Chunk& ch, size_t pos, bool any_case) {
  if (ch.cpt(pos) != '\'' || pos + 1 >= ch.end) return 0;
  auto low = [&](size_t p) { return any_case ? ascii_lower(ch.cpt(p)) : ch.cpt(p); };
  const uint32_t n1 = low(pos + 1);
  if (n1 == 's' || n1 == 't' || n1 == 'm' || n1 == 'd') return 2;
  if (pos + 2 >= ch.end) return 0;
  const uint32_t n2 = low(pos + 2);
  if ((n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e') || (n1 == 'l' && n2 == 'l')) return 3;
  return 0;
}

// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
void split_gpt2(const Chunk& ch, std::vector<size_t>& out) {
  Cutter c{out, ch.ini};
  for (size_t pos = ch.ini; pos < ch.end;) {
    const uint32_t cpt = ch.cpt(pos);
    const uint16_t flags = ch.flags(pos);
    if (size_t n = contraction(ch, pos, false)) {
      pos += c.cut(pos + n);
      continue;
    }
    uint16_t f2 = cpt == ' ' ? ch.flags(pos + 1) : flags;
    if (f2 & kLetter) {  // <space>?\p{L}+
      pos += (cpt == ' ');
      while (f2 & kLetter) f2 = ch.flags(++pos);
      c.cut(pos);
      continue;
    }
    if (f2 & kNumber) {  // <space>?\p{N}+
      pos += (cpt == ' ');
      while (f2 & kNumber) f2 = ch.flags(++pos);
      c.cut(pos);
      continue;
    }
    if (!(f2 & (kWhitespace | kLetter | kNumber)) && f2) {  // <space>?[^\s\p{L}\p{N}]+
      pos += (cpt == ' ');
      while (!(f2 & (kWhitespace | kLetter | kNumber)) && f2) f2 = ch.flags(++pos);
      c.cut(pos);
      continue;
    }
    size_t n_ws = 0;
    while (ch.flags(pos + n_ws) & kWhitespace) ++n_ws;
    if (n_ws > 1 && ch.cpt(pos + n_ws) != kNoCpt) {  // \s+(?!\S)
      pos += n_ws - 1;
      c.cut(pos);
      continue;
    }
    if (n_ws > 0) {  // \s+
      pos += n_ws;
      c.cut(pos);
      continue;
    }
    c.cut(++pos);  // no match: the character alone
  }
}

// (?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|
// \p{N}{1,max_digits}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
void split_llama3(const Chunk& ch, size_t max_digits, std::vector<size_t>& out) {
  Cutter c{out, ch.ini};
  for (size_t pos = ch.ini; pos < ch.end;) {
    const uint32_t cpt = ch.cpt(pos);
    const uint16_t flags = ch.flags(pos);
    if (size_t n = contraction(ch, pos, true)) {
      pos += c.cut(pos + n);
      continue;
    }
    if (!(cpt == '\r' || cpt == '\n' || (flags & kNumber))) {  // [^\r\n\p{L}\p{N}]?\p{L}+
      if ((flags & kLetter) || (ch.flags(pos + 1) & kLetter)) {
        ++pos;
        while (ch.flags(pos) & kLetter) ++pos;
        c.cut(pos);
        continue;
      }
    }
    if (flags & kNumber) {  // \p{N}{1,max_digits}
      size_t start = pos;
      while (ch.flags(pos) & kNumber) {
        if (++pos - start >= max_digits) {
          c.cut(pos);
          start = pos;
        }
      }
      c.cut(pos);
      continue;
    }
    // <space>?[^\s\p{L}\p{N}]+[\r\n]*  (llama.cpp tests the current character's
    // flags here, which only differs from the next one's at the chunk end)
    uint16_t f2 = cpt == ' ' ? ch.flags(pos + 1) : flags;
    if (!(f2 & (kWhitespace | kLetter | kNumber)) && flags) {
      pos += (cpt == ' ');
      while (!(f2 & (kWhitespace | kLetter | kNumber)) && f2) f2 = ch.flags(++pos);
      uint32_t c2 = ch.cpt(pos);
      while (c2 == '\r' || c2 == '\n') c2 = ch.cpt(++pos);
      c.cut(pos);
      continue;
    }
    size_t n_ws = 0;
    size_t last_rn_end = 0;
    while (ch.flags(pos + n_ws) & kWhitespace) {
      const uint32_t c2 = ch.cpt(pos + n_ws);
      if (c2 == '\r' || c2 == '\n') last_rn_end = pos + n_ws + 1;
      ++n_ws;
    }
    if (last_rn_end > 0) {  // \s*[\r\n]+
      pos = last_rn_end;
      c.cut(pos);
      continue;
    }
    if (n_ws > 1 && ch.cpt(pos + n_ws) != kNoCpt) {  // \s+(?!\S)
      pos += n_ws - 1;
      c.cut(pos);
      continue;
    }
    if (n_ws > 0) {  // \s+
      pos += n_ws;
      c.cut(pos);
      continue;
    }
    c.cut(++pos);
  }
}

// A regex without look-around used through std::regex_iterator: every match is a
// piece and so is the text between matches. `match(pos)` returns the length of the
// match starting at pos (0 for none).
template <typename Match>
void split_matches(const Chunk& ch, Match match, std::vector<size_t>& out) {
  Cutter c{out, ch.ini};
  for (size_t pos = ch.ini; pos < ch.end;) {
    const size_t n = match(ch, pos);
    if (n == 0) {
      ++pos;
      continue;
    }
    c.cut(pos);
    pos += n;
    c.cut(pos);
  }
  c.cut(ch.end);
}

size_t run_length(const Chunk& ch, size_t pos, bool (*pred)(const Chunk&, size_t)) {
  size_t n = 0;
  while (pos + n < ch.end && pred(ch, pos + n)) ++n;
  return n;
}

bool is_number(const Chunk& ch, size_t p) { return ch.flags(p) & kNumber; }
bool is_ascii_digit(const Chunk& ch, size_t p) { return ch.cpt(p) >= '0' && ch.cpt(p) <= '9'; }
// [\p{P}\$\+<=>\^~\|]
bool is_punct_or_sign(const Chunk& ch, size_t p) {
  const uint32_t c = ch.cpt(p);
  return (ch.flags(p) & kPunctuation) || c == '$' || c == '+' || c == '<' || c == '=' ||
         c == '>' || c == '^' || c == '~' || c == '|';
}

template <typename Split>
std::vector<size_t> for_each_chunk(const Text& t, const std::vector<size_t>& chunks, Split split) {
  std::vector<size_t> out;
  out.reserve(chunks.size() * 2);
  size_t start = 0;
  for (size_t len : chunks) {
    Chunk ch{t, start, start + len};
    split(ch, out);
    start += len;
  }
  return out;
}

}  // namespace

std::vector<size_t> pre_split_words(const std::vector<uint32_t>& cpts, PreSplit kind) {
  std::vector<uint16_t> flags(cpts.size());
  for (size_t i = 0; i < cpts.size(); ++i) flags[i] = unicode::cpt_flags(cpts[i]);
  const Text t{cpts, flags};
  std::vector<size_t> chunks;
  if (!cpts.empty()) chunks.push_back(cpts.size());

  auto gpt2 = [](const Chunk& ch, std::vector<size_t>& out) { split_gpt2(ch, out); };
  switch (kind) {
    case PreSplit::Gpt2:
      return for_each_chunk(t, chunks, gpt2);
    case PreSplit::Llama3:
      return for_each_chunk(t, chunks, [](const Chunk& ch, auto& out) { split_llama3(ch, 3, out); });
    case PreSplit::Qwen2:
      return for_each_chunk(t, chunks, [](const Chunk& ch, auto& out) { split_llama3(ch, 1, out); });
    case PreSplit::DigitsGpt2: {
      auto digits = [](const Chunk& ch, auto& out) {
        split_matches(ch, [](const Chunk& c, size_t p) -> size_t { return is_number(c, p) ? 1 : 0; }, out);
      };
      return for_each_chunk(t, for_each_chunk(t, chunks, digits), gpt2);
    }
    case PreSplit::Default: {
      auto punct = [](const Chunk& ch, auto& out) {
        split_matches(ch, [](const Chunk& c, size_t p) { return run_length(c, p, is_punct_or_sign); }, out);
      };
      auto numbers = [](const Chunk& ch, auto& out) {
        split_matches(ch, [](const Chunk& c, size_t p) { return run_length(c, p, is_number); }, out);
      };
      auto triples = [](const Chunk& ch, auto& out) {
        split_matches(ch, [](const Chunk& c, size_t p) -> size_t {
          return is_ascii_digit(c, p) && is_ascii_digit(c, p + 1) && is_ascii_digit(c, p + 2) ? 3 : 0;
        }, out);
      };
      auto words = for_each_chunk(t, chunks, punct);
      words = for_each_chunk(t, words, gpt2);
      words = for_each_chunk(t, words, numbers);
      return for_each_chunk(t, words, triples);
    }
  }
  return chunks;
}

}  // namespace tenx
