// Python's str.upper / lower / title / capitalize for the scripts chat text is mostly written in:
// ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic and fullwidth Latin (a template that
// uppercases a Unicode user message must match Jinja2). Other scripts pass through unchanged; the
// full Unicode case tables are not carried (docs/chat-templates.md, limits).
#include <cstdint>
#include <string>
#include <vector>

#include "jinja_eval.hpp"

namespace tenx::jinja::detail {
namespace {

std::vector<std::uint32_t> decode(const std::string& s) {
  std::vector<std::uint32_t> out;
  for (const auto& cp : code_points(s)) {
    const auto b0 = static_cast<unsigned char>(cp[0]);
    if (cp.size() == 1) out.push_back(b0 < 0x80 ? b0 : 0x80000000u | b0);  // a stray byte stays a byte
    else if (cp.size() == 2) out.push_back(((b0 & 0x1Fu) << 6) | (static_cast<unsigned char>(cp[1]) & 0x3Fu));
    else if (cp.size() == 3)
      out.push_back(((b0 & 0x0Fu) << 12) | ((static_cast<unsigned char>(cp[1]) & 0x3Fu) << 6) |
                    (static_cast<unsigned char>(cp[2]) & 0x3Fu));
    else
      out.push_back(((b0 & 0x07u) << 18) | ((static_cast<unsigned char>(cp[1]) & 0x3Fu) << 12) |
                    ((static_cast<unsigned char>(cp[2]) & 0x3Fu) << 6) | (static_cast<unsigned char>(cp[3]) & 0x3Fu));
  }
  return out;
}

// A stray byte (see decode) goes back out as that byte.
void encode(std::string& out, std::uint32_t c) {
  if (c & 0x80000000u) out += static_cast<char>(c & 0xFF);
  else append_utf8(out, c);
}

// Latin Extended-A pairs: in 0100-0137 and 014A-0177 the upper case letter is even; in 0139-0148
// and 0179-017E it is odd.
bool ext_a_pair(std::uint32_t c, bool& is_upper) {
  if ((c >= 0x100 && c <= 0x12F) || (c >= 0x132 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) {
    is_upper = c % 2 == 0;
    return true;
  }
  if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) {
    is_upper = c % 2 == 1;
    return true;
  }
  return false;
}

std::uint32_t lower_of(std::uint32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
  if (c == 0x178) return 0xFF;
  bool up = false;
  if (ext_a_pair(c, up)) return up ? c + 1 : c;
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;
  if (c == 0x386) return 0x3AC;
  if (c >= 0x388 && c <= 0x38A) return c + 37;
  if (c == 0x38C) return 0x3CC;
  if (c == 0x38E || c == 0x38F) return c + 63;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  if (c >= 0xFF21 && c <= 0xFF3A) return c + 32;
  return c;
}

// Upper case; ß becomes "SS" (two code points), as in Python.
void append_upper(std::string& out, std::uint32_t c) {
  if (c == 0xDF) { out += "SS"; return; }
  std::uint32_t u = c;
  bool up = false;
  if (c >= 'a' && c <= 'z') u = c - 32;
  else if (c >= 0xE0 && c <= 0xFE && c != 0xF7) u = c - 32;
  else if (c == 0xFF) u = 0x178;
  else if (c == 0xB5) u = 0x39C;
  else if (c == 0x131) u = 'I';
  else if (c == 0x17F) u = 'S';
  else if (ext_a_pair(c, up)) u = up ? c : c - 1;
  else if (c >= 0x3B1 && c <= 0x3C9) u = c == 0x3C2 ? 0x3A3 : c - 32;
  else if (c == 0x3AC) u = 0x386;
  else if (c >= 0x3AD && c <= 0x3AF) u = c - 37;
  else if (c == 0x3CC) u = 0x38C;
  else if (c == 0x3CD || c == 0x3CE) u = c - 63;
  else if (c >= 0x430 && c <= 0x44F) u = c - 32;
  else if (c >= 0x450 && c <= 0x45F) u = c - 80;
  else if (c >= 0xFF41 && c <= 0xFF5A) u = c - 32;
  encode(out, u);
}

bool is_cased(std::uint32_t c) {
  std::string up;
  append_upper(up, c);
  std::string self;
  encode(self, c);
  return lower_of(c) != c || up != self;
}

// Lower case of cps[k], with Python's final-sigma rule: a capital sigma that ends a word (a cased
// letter before it, none after it) becomes final sigma.
std::uint32_t lower_at(const std::vector<std::uint32_t>& cps, size_t k) {
  const std::uint32_t c = cps[k];
  if (c == 0x3A3 && k > 0 && is_cased(cps[k - 1]) && (k + 1 == cps.size() || !is_cased(cps[k + 1]))) return 0x3C2;
  return c == 0x130 ? 'i' : lower_of(c);
}

}  // namespace

std::string py_upper(const std::string& s) {
  std::string out;
  for (auto c : decode(s)) append_upper(out, c);
  return out;
}

std::string py_lower(const std::string& s) {
  std::string out;
  const auto cps = decode(s);
  for (size_t k = 0; k < cps.size(); ++k) encode(out, lower_at(cps, k));
  return out;
}

std::string py_title(const std::string& s) {
  std::string out;
  bool prev_cased = false;
  const auto cps = decode(s);
  for (size_t k = 0; k < cps.size(); ++k) {
    if (prev_cased) encode(out, lower_at(cps, k));
    else append_upper(out, cps[k]);
    prev_cased = is_cased(cps[k]);
  }
  return out;
}

std::string py_capitalize(const std::string& s) {
  std::string out;
  const auto cps = decode(s);
  for (size_t k = 0; k < cps.size(); ++k) {
    if (k == 0) append_upper(out, cps[k]);
    else encode(out, lower_at(cps, k));
  }
  return out;
}

}  // namespace tenx::jinja::detail
