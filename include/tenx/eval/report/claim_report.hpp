#pragma once
// The claim's verdict as people and programs read it: report.json's "verdict" object
// (claim_report_json.cpp) and the tables of `tenx verify` / summary.md (claim_report_text.cpp).
#include <string>

#include "tenx/eval/stats/claim.hpp"

namespace tenx::eval {

Json to_json(const ClaimVerdict& v);

// The verdict for people: per candidate a table (suite, items, both accuracies, difference with
// its CI, McNemar p, verdict), the compute ratios, the overall line and one sentence per suite.
// Aligned plain text for the terminal, or Markdown for summary.md.
std::string verdict_text(const ClaimVerdict& v, bool markdown = false);

}  // namespace tenx::eval
