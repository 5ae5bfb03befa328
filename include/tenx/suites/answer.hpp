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
// True when `output` (the raw generation) matches one of the targets under the item's rule.
bool generate_matches(const GenerateBody& body, std::string_view output);

}  // namespace tenx::suites
