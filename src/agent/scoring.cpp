// AST matching of tool calls and normalised answer matching.
#include "tenx/agent/scoring.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

namespace tenx::agent {
namespace {

std::string normalise(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

std::vector<std::string> split_parts(const std::string& s) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t comma = s.find(',', start);
    std::string part = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    while (!part.empty() && part.front() == ' ') part.erase(part.begin());
    while (!part.empty() && part.back() == ' ') part.pop_back();
    parts.push_back(part);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return parts;
}

std::optional<double> whole_number(const std::string& s) {
  if (s.empty()) return std::nullopt;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || c == '.' || c == '-')) return std::nullopt;
  double d = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return d;
}

}  // namespace

bool call_matches(const ToolCall& gold, const ToolCall& predicted,
                  const std::vector<ToolSpec>& tools) {
  if (gold.name != predicted.name || gold.args.size() != predicted.args.size()) return false;
  if (!check_call(predicted, tools, "call").empty()) return false;
  for (const auto& g : gold.args) {
    const Argument* p = predicted.find(g.name);
    if (p == nullptr || !values_equal(g.value, p->value)) return false;
  }
  return true;
}

CallSetMatch match_call_sets(const std::vector<ToolCall>& gold,
                             const std::vector<ToolCall>& predicted,
                             const std::vector<ToolSpec>& tools) {
  // Call equality is an equivalence relation, so greedy matching is maximal.
  std::vector<bool> used(predicted.size(), false);
  CallSetMatch m;
  for (const auto& g : gold) {
    bool found = false;
    for (std::size_t i = 0; i < predicted.size() && !found; ++i) {
      if (!used[i] && call_matches(g, predicted[i], tools)) {
        used[i] = true;
        found = true;
      }
    }
    if (found) ++m.matched;
    else ++m.missing;
  }
  m.extra = predicted.size() - m.matched;
  m.exact = m.missing == 0 && m.extra == 0;
  return m;
}

bool answers_match(std::string_view gold, std::string_view predicted) {
  auto g = split_parts(normalise(gold));
  auto p = split_parts(normalise(predicted));
  if (g.size() != p.size()) return false;
  for (std::size_t i = 0; i < g.size(); ++i) {
    if (g[i] == p[i]) continue;
    auto gn = whole_number(g[i]);
    auto pn = whole_number(p[i]);
    if (!gn || !pn) return false;
    if (std::fabs(*gn - *pn) > 1e-9 * std::max(1.0, std::fabs(*gn))) return false;
  }
  return true;
}

bool episode_success(const std::vector<ToolCall>& gold_calls, std::string_view gold_answer,
                     const std::vector<ToolCall>& made_calls, std::string_view answer,
                     const std::vector<ToolSpec>& tools) {
  if (!answers_match(gold_answer, answer)) return false;
  if (gold_calls.empty()) return made_calls.empty();
  return match_call_sets(gold_calls, made_calls, tools).missing == 0;
}

}  // namespace tenx::agent
