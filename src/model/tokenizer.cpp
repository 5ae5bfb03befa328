// Tokenizer: special-token partition, encode, decode and accessors. Loading is in
// tokenizer_load.cpp, the two merge algorithms in tokenizer_bpe.cpp / tokenizer_spm.cpp.
#include "tenx/model/tokenizer.hpp"

#include <fmt/format.h>

#include "tenx/util/error.hpp"
#include "tokenizer_impl.hpp"

namespace tenx {

namespace {

constexpr std::string_view kSpaceEscape = "\xe2\x96\x81";  // U+2581, SentencePiece's space

// C isspace() in the "C" locale, which llama.cpp uses for lstrip / rstrip.
bool is_c_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// A piece of the input: plain text [offset, offset + length) or a special token.
struct Fragment {
  int32_t token;  // -1 for text
  size_t offset, length;
};

// llama.cpp's tokenizer_st_partition: for each special token, longest first, cut
// every text fragment at each occurrence of its text.
std::vector<Fragment> partition(const Tokenizer::Impl& t, std::string_view text, bool parse_special) {
  std::vector<Fragment> frags;
  if (text.empty()) return frags;
  frags.push_back({-1, 0, text.size()});
  std::vector<Fragment> next;
  for (int32_t id : t.special_tokens) {
    const TokenData& tok = t.tokens[id];
    // Control and unknown tokens only when asked; user-defined ones always.
    if (!parse_special && (tok.attr & (kAttrControl | kAttrUnknown))) continue;
    next.clear();
    for (const Fragment& f : frags) {
      if (f.token >= 0) {
        next.push_back(f);
        continue;
      }
      size_t off = f.offset, len = f.length;
      while (len > 0) {
        const size_t match = text.substr(0, off + len).find(tok.text, off);
        if (match == std::string_view::npos) break;
        size_t left = match - off;
        if (tok.attr & kAttrLstrip)
          while (left > 0 && is_c_space(text[off + left - 1])) --left;
        if (left > 0) next.push_back({-1, off, left});
        next.push_back({id, 0, 0});
        size_t right_off = match + tok.text.size();
        size_t right_len = off + len - right_off;
        if (tok.attr & kAttrRstrip)
          while (right_len > 0 && is_c_space(text[right_off])) ++right_off, --right_len;
        off = right_off;
        len = right_len;
      }
      if (len > 0) next.push_back({-1, off, len});
    }
    frags.swap(next);
  }
  return frags;
}

uint8_t hex_byte(const std::string& text) {  // "<0xNN>" -> NN (0 when malformed)
  if (text.size() < 5) return 0;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  const int hi = digit(text[3]), lo = digit(text[4]);
  if (hi < 0) return 0;
  return static_cast<uint8_t>(lo < 0 ? hi : hi * 16 + lo);
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  for (size_t hit; (hit = s.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
    out.append(s, pos, hit - pos);
    out.append(to);
  }
  out.append(s, pos, std::string::npos);
  s.swap(out);
}

// llama_detokenize's clean_spaces passes, run in place exactly as written there
// (" ?" -> "?", " ' " -> "'", " 's" -> "'s", ...).
void clean_up_spaces(std::string& s) {
  char* text = s.data();
  int64_t total = static_cast<int64_t>(s.size());

  const int64_t total1 = total;
  total = total ? 1 : 0;
  for (int64_t i = 1; i < total1; ++i) {
    const char x = text[i];
    if (text[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) --total;
    text[total++] = x;
  }

  const int64_t total2 = total;
  total = total ? 1 : 0;
  for (int64_t i = 1; i < total2; ++i) {
    const char x = text[i];
    if (x == '\'' && i + 1 < total2 && text[i - 1] == ' ' && text[i + 1] == ' ') {
      --total;
      text[++i] = '\0';
    }
    text[total++] = x;
  }

  const int64_t total3 = total;
  total = total ? 1 : 0;
  for (int64_t i = 1; i < total3; ++i) {
    const char x = text[i];
    if (text[i - 1] == ' ' && x == '\'' && i + 1 < total3) {
      const char x1 = text[i + 1];
      if (x1 == 's' || x1 == 'm') {
        --total;
      } else if (i + 2 < total3) {
        const char x2 = text[i + 2];
        if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) --total;
      }
    }
    text[total++] = x;
  }
  s.resize(static_cast<size_t>(total));
}

}  // namespace

std::string Tokenizer::Impl::compute_piece(int32_t id) const {
  const TokenData& d = tokens[id];
  if (d.attr & (kAttrUnknown | kAttrControl | kAttrUserDefined)) return d.text;
  if (d.attr & kAttrNormal) {
    if (is_bpe) return bpe_decode_text(d.text);
    std::string s = d.text;
    replace_all(s, kSpaceEscape, " ");
    return s;
  }
  if (d.attr & kAttrByte) return std::string(1, static_cast<char>(hex_byte(d.text)));
  return {};  // undefined / unused tokens render as nothing
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  const Impl& t = *impl_;
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 2);
  const std::vector<Fragment> frags = partition(t, text, parse_special);
  if (add_special && t.add_bos) out.push_back(t.bos);
  if (t.is_bpe) {
    for (const Fragment& f : frags) {
      if (f.token >= 0) out.push_back(f.token);
      else t.encode_bpe(text.substr(f.offset, f.length), out);
    }
  } else {
    // A text fragment at the start or after a special token gets the space
    // prefix; then every space is written as U+2581.
    bool prev_special = true;
    std::string piece;
    for (const Fragment& f : frags) {
      if (f.token >= 0) {
        out.push_back(f.token);
        prev_special = true;
        continue;
      }
      piece.clear();
      if (t.add_space_prefix && prev_special) piece = ' ';
      piece.append(text.substr(f.offset, f.length));
      replace_all(piece, " ", kSpaceEscape);
      t.encode_spm(piece, out);
      prev_special = false;
    }
  }
  if (add_special && t.add_eos) out.push_back(t.eos);
  return out;
}

std::string Tokenizer::token_to_piece(int32_t id, bool special) const {
  const Impl& t = *impl_;
  if (id < 0 || id >= t.n_vocab()) return {};
  if (!special && (t.tokens[id].attr & (kAttrUnknown | kAttrControl))) return {};
  return t.piece_cache[id];
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool special) const {
  const Impl& t = *impl_;
  std::string out;
  bool strip_space = t.add_space_prefix;  // the first piece's leading space was added by encode
  for (int32_t id : ids) {
    std::string piece = token_to_piece(id, special);
    if (strip_space && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
    strip_space = false;
    out += piece;
  }
  if (t.clean_spaces) clean_up_spaces(out);
  return out;
}

const std::string& Tokenizer::token_text(int32_t id) const {
  if (id < 0 || id >= impl_->n_vocab())
    throw Error("token id", fmt::format("{} is out of range (the vocabulary has {} tokens)", id, impl_->n_vocab()));
  return impl_->tokens[id].text;
}

int32_t Tokenizer::n_vocab() const { return impl_->n_vocab(); }
int32_t Tokenizer::bos_id() const { return impl_->bos; }
int32_t Tokenizer::eos_id() const { return impl_->eos; }
int32_t Tokenizer::eot_id() const { return impl_->eot; }
int32_t Tokenizer::unk_id() const { return impl_->unk; }
int32_t Tokenizer::pad_id() const { return impl_->pad; }
bool Tokenizer::add_bos() const { return impl_->add_bos; }
bool Tokenizer::add_eos() const { return impl_->add_eos; }
std::string Tokenizer::model() const { return impl_->model_name; }
std::string Tokenizer::pre() const { return impl_->pre_name.empty() ? "default" : impl_->pre_name; }

bool Tokenizer::is_control(int32_t id) const {
  return id >= 0 && id < impl_->n_vocab() && (impl_->tokens[id].attr & kAttrControl);
}

bool Tokenizer::is_eog(int32_t id) const { return id >= 0 && impl_->eog.count(id) > 0; }

}  // namespace tenx
