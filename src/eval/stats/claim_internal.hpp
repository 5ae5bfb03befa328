#pragma once
// What claim.cpp (the claim over suites and compute) and claim_suite.cpp (one suite) share.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tenx/eval/stats/claim.hpp"

namespace tenx::eval::detail {

using ItemKey = std::pair<std::string, std::string>;  // suite, item
using RecordMap = std::map<ItemKey, const ItemRecord*>;

// One suite of one candidate against the baseline: the non-inferiority readings on the items
// applicable to both (blind controls left out), assay sensitivity, the control lifts.
// flops_* and secs_* receive the paired items' figures (controls included: they were run).
SuiteComparison compare_suite(const SuiteRef& suite, const RecordMap& base, const RecordMap& cand,
                              const VerifySpec& spec, const ReferenceTable& refs, const std::string& candidate,
                              std::vector<double>& flops_b, std::vector<double>& flops_c,
                              std::vector<double>& secs_b, std::vector<double>& secs_c);

// What the statistics see of one record: an item that could not be run scores 0.
inline double score_of(const ItemRecord& r) { return r.error.empty() ? r.score : 0.0; }
inline bool correct_of(const ItemRecord& r) { return r.error.empty() && r.correct; }

}  // namespace tenx::eval::detail
