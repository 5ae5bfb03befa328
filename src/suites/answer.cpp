// Answer normalisation and matching for generate items (docs/suite-format.md, "Scoring").
#include "tenx/suites/answer.hpp"

#include <array>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <regex>

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

namespace {

constexpr std::array<std::string_view, 5> kRuleNames{"exact", "first_line", "last_number", "regex", "choice_letter"};
constexpr size_t kMaxPatternBytes = 256;
constexpr long kMaxRepeat = 1000;
// The regex rule reads at most this much of the output: an answer is near the start, and
// libstdc++'s matcher recurses per character.
constexpr size_t kMaxRegexInput = 16 * 1024;

bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

std::string_view trim(std::string_view t) {
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.remove_prefix(1);
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
  return t;
}

std::optional<std::string> first_line(std::string_view text) {
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = trim(text.substr(begin, end - begin));
    if (!line.empty()) return std::string(line);
    begin = end + 1;
  }
  return std::nullopt;
}

// Numbers: an optional '-' or '+' not glued to a word, digits with optional ',' thousands
// groups, an optional decimal part. The last one wins (a worked answer ends with its result).
std::optional<std::string> last_number(std::string_view text) {
  std::optional<std::string> found;
  size_t i = 0;
  while (i < text.size()) {
    if (!is_digit(text[i]) || (i > 0 && (is_alnum(text[i - 1]) || text[i - 1] == '.'))) {
      ++i;
      continue;
    }
    std::string number;
    if (i > 0 && (text[i - 1] == '-' || text[i - 1] == '+') && (i < 2 || !is_alnum(text[i - 2]))) number += text[i - 1];
    size_t j = i;
    while (j < text.size()) {
      if (is_digit(text[j])) {
        number += text[j++];
      } else if (text[j] == ',' && j + 3 < text.size() && is_digit(text[j + 1]) &&
                 is_digit(text[j + 2]) && is_digit(text[j + 3]) && (j + 4 >= text.size() || !is_digit(text[j + 4]))) {
        ++j;  // a thousands separator: exactly three digits follow
      } else {
        break;
      }
    }
    if (j + 1 < text.size() && text[j] == '.' && is_digit(text[j + 1])) {
      number += text[j++];
      while (j < text.size() && is_digit(text[j])) number += text[j++];
    }
    found = number;
    i = j;
  }
  return found;
}

std::optional<char> letter_at(std::string_view t, size_t i) {
  if (i >= t.size() || t[i] < 'A' || t[i] > 'Z') return std::nullopt;
  if (i > 0 && is_alnum(t[i - 1])) return std::nullopt;
  if (i + 1 < t.size() && is_alnum(t[i + 1])) return std::nullopt;
  return t[i];
}

std::optional<std::string> choice_letter(std::string_view text) {
  // "answer is (B)", "Answer: B", "the answer is B." first: the explicit statement wins.
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view cue : {"answer is", "answer:"}) {
    for (size_t p = lower.find(cue); p != std::string::npos; p = lower.find(cue, p + 1)) {
      size_t i = p + cue.size();
      while (i < text.size() && (text[i] == ' ' || text[i] == '(' || text[i] == '*')) ++i;
      if (auto l = letter_at(text, i)) return std::string(1, *l);
    }
  }
  // Else the first standalone capital, except the article "A" and the pronoun "I" before a word.
  for (size_t i = 0; i < text.size(); ++i) {
    auto l = letter_at(text, i);
    if (!l) continue;
    const bool word_follows = i + 2 < text.size() && text[i + 1] == ' ' && std::islower(static_cast<unsigned char>(text[i + 2]));
    if ((*l == 'A' || *l == 'I') && word_follows) continue;
    return std::string(1, *l);
  }
  return std::nullopt;
}

std::optional<std::string> regex_answer(const std::string& pattern, std::string_view text) {
  const std::regex re(pattern, std::regex::ECMAScript);
  const std::string input(text.substr(0, kMaxRegexInput));
  std::smatch m;
  if (!std::regex_search(input, m, re)) return std::nullopt;
  if (m.size() > 1 && m[1].matched) return m[1].str();
  return m[0].str();
}

}  // namespace

std::optional<ExtractRule> parse_extract_rule(std::string_view name) {
  for (size_t i = 0; i < kRuleNames.size(); ++i)
    if (kRuleNames[i] == name) return static_cast<ExtractRule>(i);
  return std::nullopt;
}

std::string_view extract_rule_name(ExtractRule rule) { return kRuleNames.at(static_cast<size_t>(rule)); }

std::string check_extract_pattern(const std::string& pattern) {
  if (pattern.empty()) return "must not be empty";
  if (pattern.size() > kMaxPatternBytes) return "longer than 256 bytes";
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '{' || (i > 0 && pattern[i - 1] == '\\')) continue;
    size_t j = i + 1;
    while (j < pattern.size() && (is_digit(pattern[j]) || pattern[j] == ',')) {
      if (is_digit(pattern[j])) {
        size_t k = j;
        while (k < pattern.size() && is_digit(pattern[k])) ++k;
        if (k - j > 4 || std::stol(pattern.substr(j, k - j)) > kMaxRepeat) return "repeats more than 1000 times";
        j = k;
      } else {
        ++j;
      }
    }
  }
  try {
    std::regex re(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return std::string("not a valid regular expression (ECMAScript): ") + e.what();
  }
  return {};
}

std::string strip_reasoning(std::string_view text) {
  constexpr std::string_view kFinal = "<|channel|>final<|message|>";
  if (size_t f = text.rfind(kFinal); f != std::string_view::npos) {
    std::string_view rest = text.substr(f + kFinal.size());
    for (std::string_view end : {"<|return|>", "<|end|>", "<|call|>"})
      if (size_t e = rest.find(end); e != std::string_view::npos) rest = rest.substr(0, e);
    return std::string(rest);
  }
  if (text.find("<|channel|>analysis") != std::string_view::npos) return {};
  constexpr std::string_view kOpen = "<think>", kClose = "</think>";
  // A close before any open: the block began in the prompt (Qwen3's templates).
  if (size_t close = text.find(kClose); close != std::string_view::npos && close < text.find(kOpen))
    text = text.substr(close + kClose.size());
  std::string out;
  while (!text.empty()) {
    const size_t open = text.find(kOpen);
    out += text.substr(0, open);
    if (open == std::string_view::npos) break;
    const size_t close = text.find(kClose, open);
    if (close == std::string_view::npos) break;  // never closed: the rest is reasoning
    text = text.substr(close + kClose.size());
  }
  return out;
}

std::optional<std::string> extract_answer(const AnswerExtraction& extract, std::string_view text) {
  switch (extract.rule) {
    case ExtractRule::exact: return std::string(text);
    case ExtractRule::first_line: return first_line(text);
    case ExtractRule::last_number: return last_number(text);
    case ExtractRule::regex: return regex_answer(extract.pattern, text);
    case ExtractRule::choice_letter: return choice_letter(text);
  }
  return std::nullopt;
}

std::optional<std::string> extracted_answer(const GenerateBody& body, std::string_view output) {
  std::string text = cut_at_stop(output, body.stop);
  if (body.extract.strip_reasoning) text = strip_reasoning(text);
  return extract_answer(body.extract, text);
}

bool generate_matches(const GenerateBody& body, std::string_view output) {
  const std::optional<std::string> answer = extracted_answer(body, output);
  if (!answer) return false;
  if (body.match == MatchKind::numeric) {
    auto got = parse_number(*answer);
    if (!got) return false;
    for (const auto& t : body.targets) {
      auto want = parse_number(t);
      // a relative slack of 1e-9 absorbs the decimal rounding of printed targets
      if (want && std::fabs(*got - *want) <= body.tolerance + 1e-9 * std::fabs(*want)) return true;
    }
    return false;
  }
  std::string got = normalise_answer(*answer);
  for (const auto& t : body.targets)
    if (normalise_answer(t) == got) return true;
  return false;
}

}  // namespace tenx::suites
