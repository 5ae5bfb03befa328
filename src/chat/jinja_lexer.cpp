// The lexer, following jinja2/lexer.py with trim_blocks=True and lstrip_blocks=True (how Hugging
// Face configures Jinja2): newlines normalised to "\n", one trailing newline dropped, "{%-" strips
// the whitespace before a tag and "-%}" the whitespace after it, "%}" eats one newline, a block or
// comment tag alone on its line takes its indentation with it, "{%+" / "+%}" opt out.
#include "jinja_lexer.hpp"

#include <cstring>

#include "jinja_value.hpp"
#include "tenx/chat/jinja.hpp"

namespace tenx::jinja::detail {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

class Lexer {
 public:
  Lexer(const std::string& source, const std::string& name) : name_(name) {
    // Jinja2 splits on \r\n, \r, \n and rejoins with \n, dropping one trailing newline.
    src_.reserve(source.size());
    for (size_t k = 0; k < source.size(); ++k) {
      if (source[k] == '\r') {
        src_ += '\n';
        if (k + 1 < source.size() && source[k + 1] == '\n') ++k;
      } else {
        src_ += source[k];
      }
    }
    if (!src_.empty() && src_.back() == '\n') src_.pop_back();
  }

  std::vector<Token> run() {
    while (pos_ < src_.size()) root();
    push(Tok::Eof, "", pos_);
    return std::move(out_);
  }

 private:
  [[noreturn]] void error(size_t at, const std::string& message) const {
    const auto [line, col] = position(at);
    throw SyntaxError(name_, line, col, message);
  }

  std::pair<int, int> position(size_t at) {
    // Incremental: tokens are produced in order, so walk forward from the last position.
    if (at < pos_cache_) { pos_cache_ = 0; line_ = 1; col_ = 1; }
    for (; pos_cache_ < at && pos_cache_ < src_.size(); ++pos_cache_) {
      if (src_[pos_cache_] == '\n') { ++line_; col_ = 1; } else { ++col_; }
    }
    return {line_, col_};
  }
  std::pair<int, int> position(size_t at) const {
    int line = 1, col = 1;
    for (size_t k = 0; k < at && k < src_.size(); ++k) {
      if (src_[k] == '\n') { ++line; col = 1; } else { ++col; }
    }
    return {line, col};
  }

  void push(Tok t, std::string text, size_t at) {
    const auto [line, col] = position(at);
    out_.push_back(Token{t, std::move(text), line, col});
  }

  bool starts(size_t at, const char* s) const { return src_.compare(at, std::strlen(s), s) == 0; }

  // Text up to the next tag, then the tag.
  void root() {
    const size_t start = pos_;
    size_t tag = src_.size();
    for (size_t k = pos_; k + 1 < src_.size(); ++k) {
      if (src_[k] == '{' && (src_[k + 1] == '{' || src_[k + 1] == '%' || src_[k + 1] == '#')) { tag = k; break; }
    }
    std::string text = src_.substr(start, tag - start);
    if (tag == src_.size()) {
      if (!text.empty()) push(Tok::Text, std::move(text), start);
      pos_ = tag;
      return;
    }
    const char kind = src_[tag + 1];
    const char sign = tag + 2 < src_.size() && (src_[tag + 2] == '-' || src_[tag + 2] == '+') ? src_[tag + 2] : 0;
    if (sign == '-') {
      size_t e = text.size();
      while (e > 0 && is_space(text[e - 1])) --e;
      text.resize(e);
    } else if (sign != '+' && kind != '{') {
      // lstrip_blocks: only whitespace between the line start and the tag.
      const size_t nl = text.rfind('\n');
      const size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
      const bool line_starting = start == 0 || src_[start - 1] == '\n';
      if ((l_pos > 0 || line_starting) && l_pos < text.size()) {
        bool all_space = true;
        for (size_t k = l_pos; k < text.size(); ++k) all_space = all_space && is_space(text[k]);
        if (all_space) text.resize(l_pos);
      }
    }
    if (!text.empty()) push(Tok::Text, std::move(text), start);
    pos_ = tag + 2 + (sign ? 1 : 0);
    if (kind == '#') comment(tag);
    else if (kind == '%' && raw_begin()) raw(tag);
    else tag_body(kind == '{', tag);
  }

  void comment(size_t tag) {
    const size_t end = src_.find("#}", pos_);
    if (end == std::string::npos) error(tag, "Missing end of comment tag");
    const char before = end > pos_ ? src_[end - 1] : 0;
    pos_ = end + 2;
    finish_block_end(before);
  }

  // After "%}" / "#}": "-" strips all following whitespace, "+" nothing, else one newline.
  void finish_block_end(char sign) {
    if (sign == '-') {
      while (pos_ < src_.size() && is_space(src_[pos_])) ++pos_;
    } else if (sign != '+' && pos_ < src_.size() && src_[pos_] == '\n') {
      ++pos_;
    }
  }

  bool raw_begin() {
    size_t k = pos_;
    while (k < src_.size() && is_space(src_[k])) ++k;
    if (!starts(k, "raw")) return false;
    k += 3;
    if (k < src_.size() && (is_name_start(src_[k]) || is_digit(src_[k]))) return false;
    while (k < src_.size() && is_space(src_[k])) ++k;
    if (starts(k, "-%}")) { pos_ = k + 3; finish_block_end('-'); return true; }
    if (starts(k, "%}")) { pos_ = k + 2; return true; }  // Jinja2 applies no trim after {% raw %}
    return false;
  }

  // {% raw %}...{% endraw %}: the text verbatim; the endraw tag strips like any block tag.
  void raw(size_t tag) {
    for (size_t k = pos_; k + 1 < src_.size(); ++k) {
      if (!starts(k, "{%")) continue;
      size_t m = k + 2;
      char sign = 0;
      if (m < src_.size() && (src_[m] == '-' || src_[m] == '+')) sign = src_[m++];
      while (m < src_.size() && is_space(src_[m])) ++m;
      if (!starts(m, "endraw")) continue;
      m += 6;
      while (m < src_.size() && is_space(src_[m])) ++m;
      char end_sign = 0;
      if (m < src_.size() && (src_[m] == '-' || src_[m] == '+')) end_sign = src_[m++];
      if (!starts(m, "%}")) continue;
      std::string text = src_.substr(pos_, k - pos_);
      if (sign == '-') {
        size_t e = text.size();
        while (e > 0 && is_space(text[e - 1])) --e;
        text.resize(e);
      } else if (sign != '+') {
        const size_t nl = text.rfind('\n');
        const size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
        bool all_space = l_pos < text.size();
        for (size_t q = l_pos; q < text.size(); ++q) all_space = all_space && is_space(text[q]);
        if (all_space && l_pos > 0) text.resize(l_pos);
      }
      if (!text.empty()) push(Tok::Text, std::move(text), pos_);
      pos_ = m + 2;
      finish_block_end(end_sign);
      return;
    }
    error(tag, "Missing end of raw directive");
  }

  void tag_body(bool variable, size_t tag) {
    push(variable ? Tok::VarBegin : Tok::BlockBegin, "", tag);
    std::vector<char> balance;
    for (;;) {
      while (pos_ < src_.size() && is_space(src_[pos_])) ++pos_;
      if (pos_ >= src_.size())
        error(tag, variable ? "unexpected end of template, expected end of print statement ('}}')"
                            : "unexpected end of template, expected end of statement ('%}')");
      if (balance.empty()) {
        if (variable) {
          if (starts(pos_, "-}}")) { push(Tok::VarEnd, "", pos_); pos_ += 3; finish_block_end('-'); return; }
          if (starts(pos_, "}}")) { push(Tok::VarEnd, "", pos_); pos_ += 2; return; }
        } else {
          for (const char sign : {'-', '+'}) {
            if (src_[pos_] == sign && starts(pos_ + 1, "%}")) {
              push(Tok::BlockEnd, "", pos_);
              pos_ += 3;
              finish_block_end(sign);
              return;
            }
          }
          if (starts(pos_, "%}")) { push(Tok::BlockEnd, "", pos_); pos_ += 2; finish_block_end(0); return; }
        }
      }
      expression_token(balance);
    }
  }

  void expression_token(std::vector<char>& balance) {
    const size_t at = pos_;
    const char c = src_[pos_];
    if (is_name_start(c)) {
      size_t e = pos_;
      while (e < src_.size() && (is_name_start(src_[e]) || is_digit(src_[e]))) ++e;
      push(Tok::Name, src_.substr(pos_, e - pos_), at);
      pos_ = e;
      return;
    }
    if (is_digit(c)) return number();
    if (c == '\'' || c == '"') return string_literal();
    static const char* const kOps[] = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "/", "*", "%", "~", "<",
                                       ">", "=", ".", ",", ":", "|", "(", ")", "[", "]", "{", "}", ";"};
    for (const char* op : kOps) {
      if (!starts(pos_, op)) continue;
      const std::string s(op);
      if (s == "(" || s == "[" || s == "{") balance.push_back(s == "(" ? ')' : s == "[" ? ']' : '}');
      if (s == ")" || s == "]" || s == "}") {
        if (balance.empty()) error(at, "unexpected '" + s + "'");
        if (balance.back() != s[0]) error(at, "unexpected '" + s + "', expected '" + std::string(1, balance.back()) + "'");
        balance.pop_back();
      }
      push(Tok::Op, s, at);
      pos_ += s.size();
      return;
    }
    error(at, std::string("unexpected char '") + c + "'");
  }

  void number() {
    const size_t at = pos_;
    size_t e = pos_;
    const auto digits = [&] {
      while (e < src_.size() && (is_digit(src_[e]) || (src_[e] == '_' && e + 1 < src_.size() && is_digit(src_[e + 1])))) ++e;
    };
    digits();
    bool is_float = false;
    if (e + 1 < src_.size() && src_[e] == '.' && is_digit(src_[e + 1])) {
      is_float = true;
      ++e;
      digits();
    }
    if (e < src_.size() && (src_[e] == 'e' || src_[e] == 'E')) {
      size_t m = e + 1;
      if (m < src_.size() && (src_[m] == '+' || src_[m] == '-')) ++m;
      if (m < src_.size() && is_digit(src_[m])) {
        is_float = true;
        e = m;
        digits();
      }
    }
    std::string text = src_.substr(pos_, e - pos_);
    std::string clean;
    for (char ch : text) if (ch != '_') clean += ch;
    push(is_float ? Tok::Float : Tok::Int, clean, at);
    pos_ = e;
  }

  // Python string literal escapes (Jinja2 decodes literals with "unicode-escape").
  void string_literal() {
    const size_t at = pos_;
    const char q = src_[pos_++];
    std::string out;
    for (;;) {
      if (pos_ >= src_.size()) error(at, "unexpected end of string literal");
      const char c = src_[pos_++];
      if (c == q) break;
      if (c != '\\') { out += c; continue; }
      if (pos_ >= src_.size()) error(at, "unexpected end of string literal");
      const char e = src_[pos_++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'v': out += '\v'; break;
        case 'a': out += '\a'; break;
        case '0': out += '\0'; break;
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case '\n': break;
        case 'x': case 'u': case 'U': {
          const size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          if (pos_ + n > src_.size()) error(at, "truncated \\" + std::string(1, e) + " escape in string literal");
          unsigned long cp = 0;
          for (size_t k = 0; k < n; ++k) {
            const char h = src_[pos_ + k];
            int d = is_digit(h) ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10 : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
            if (d < 0) error(at, "truncated \\" + std::string(1, e) + " escape in string literal");
            cp = cp * 16 + static_cast<unsigned long>(d);
          }
          if (cp > 0x10FFFF) error(at, "illegal Unicode character in string literal");
          pos_ += n;
          append_utf8(out, static_cast<std::uint32_t>(cp));
          break;
        }
        default: out += '\\'; out += e;  // Python keeps unknown escapes as written
      }
    }
    push(Tok::String, std::move(out), at);
  }

  std::string name_;
  std::string src_;
  size_t pos_ = 0;
  std::vector<Token> out_;
  size_t pos_cache_ = 0;
  int line_ = 1, col_ = 1;
};

}  // namespace

std::vector<Token> tokenize(const std::string& source, const std::string& name) {
  return Lexer(source, name).run();
}

}  // namespace tenx::jinja::detail
