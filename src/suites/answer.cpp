// Answer normalisation and matching for generate items (docs/suite-format.md, "Scoring").
#include "tenx/suites/answer.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace tenx::suites {

std::string cut_at_stop(std::string_view text, const std::vector<std::string>& stop) {
  size_t cut = text.size();
  for (const auto& s : stop) {
    if (s.empty()) continue;
    size_t p = text.find(s);
    if (p != std::string_view::npos && p < cut) cut = p;
  }
  return std::string(text.substr(0, cut));
}

std::string normalise_answer(std::string_view text) {
  std::string out;
  bool pending_space = false;
  for (unsigned char ch : text) {
    if (std::isspace(ch)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += static_cast<char>(ch < 128 ? std::tolower(ch) : ch);
  }
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

std::optional<double> parse_number(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    bool sign = (text[i] == '-' || text[i] == '+') && i + 1 < text.size() &&
                std::isdigit(static_cast<unsigned char>(text[i + 1]));
    if (sign || std::isdigit(static_cast<unsigned char>(text[i]))) break;
    ++i;
  }
  if (i == text.size()) return std::nullopt;
  size_t j = i;
  if (text[j] == '-' || text[j] == '+') ++j;
  while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
  if (j + 1 < text.size() && text[j] == '.' && std::isdigit(static_cast<unsigned char>(text[j + 1]))) {
    ++j;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
  }
  std::string number(text.substr(i, j - i));
  return std::strtod(number.c_str(), nullptr);
}

bool generate_matches(const GenerateBody& body, std::string_view output) {
  std::string cut = cut_at_stop(output, body.stop);
  if (body.match == MatchKind::numeric) {
    auto got = parse_number(cut);
    if (!got) return false;
    for (const auto& t : body.targets) {
      auto want = parse_number(t);
      // a relative slack of 1e-9 absorbs the decimal rounding of printed targets
      if (want && std::fabs(*got - *want) <= body.tolerance + 1e-9 * std::fabs(*want)) return true;
    }
    return false;
  }
  std::string got = normalise_answer(cut);
  for (const auto& t : body.targets)
    if (normalise_answer(t) == got) return true;
  return false;
}

}  // namespace tenx::suites
