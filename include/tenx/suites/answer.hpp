#pragma once
// How a generated answer is compared with an item's targets (docs/suite-format.md, "Scoring").
#include <optional>
#include <string>
#include <string_view>

#include "tenx/suites/suite.hpp"

namespace tenx::suites {

// Exact-match normalisation: cut at the first stop string, trim ASCII whitespace, lowercase
// ASCII letters, collapse inner whitespace runs to one space, drop one trailing '.'.
std::string normalise_answer(std::string_view text);
// Apply the item's stop strings (earliest occurrence wins) without normalising.
std::string cut_at_stop(std::string_view text, const std::vector<std::string>& stop);
// The first number in the text ("-12", "3.5", "1e3" is not recognised: digits, '.', sign only).
std::optional<double> parse_number(std::string_view text);

// Answer extraction (suite.hpp's ExtractRule). Names as suite.json spells them: "exact",
// "first_line", "last_number", "regex", "choice_letter".
std::optional<ExtractRule> parse_extract_rule(std::string_view name);
std::string_view extract_rule_name(ExtractRule rule);
// Empty when `pattern` is usable by the regex rule, else why not (it does not compile, or it is
// longer than 256 bytes or repeats more than 1000 times: libstdc++'s regex builds and walks its
// automaton recursively, so a suite must not be able to exhaust the stack or memory with one).
std::string check_extract_pattern(const std::string& pattern);
// The text without reasoning: each "<think>…</think>" block, everything up to a "</think>" that
// comes before any "<think>" (Qwen3's templates open the block in the prompt), an unclosed
// "<think>" and what follows it; for harmony (gpt-oss) output, the final channel's message only
// (an analysis channel with no final one leaves nothing).
std::string strip_reasoning(std::string_view text);
// The answer under the rule, from text already cut at the stop strings; nullopt when the rule
// finds none (no number, no match, no letter).
std::optional<std::string> extract_answer(const AnswerExtraction& extract, std::string_view text);
// What generate_matches compares: the output cut at the item's stop strings, reasoning stripped
// when asked, then extracted.
std::optional<std::string> extracted_answer(const GenerateBody& body, std::string_view output);
// True when `output` (the raw generation) matches one of the targets under the item's rule.
bool generate_matches(const GenerateBody& body, std::string_view output);

}  // namespace tenx::suites
