#pragma once
// Scoring helpers for agent episodes (used by the evaluation's agent loop and by the suite
// tests). Calls are compared as syntax trees, BFCL-style: the tool name is equal, required
// arguments are present, no unknown ones, types fit, values are equal; calls made in parallel
// match in any order. Answers are compared after normalisation, numbers by value.
#include <string>
#include <string_view>
#include <vector>

#include "tenx/agent/tool_call.hpp"
#include "tenx/agent/tools.hpp"

namespace tenx::agent {

// True when `predicted` is the same call as `gold` (name, argument names and equal values) and
// type-checks against `tools`.
bool call_matches(const ToolCall& gold, const ToolCall& predicted,
                  const std::vector<ToolSpec>& tools);

struct CallSetMatch {
  bool exact = false;         // a one-to-one match of gold and predicted calls
  std::size_t matched = 0;    // gold calls matched by a distinct predicted call
  std::size_t missing = 0;    // gold calls with no match
  std::size_t extra = 0;      // predicted calls matching no gold call
};
// Matches two multisets of calls in any order (parallel calls, or the calls of a whole
// episode when their order is forced by data dependencies anyway).
CallSetMatch match_call_sets(const std::vector<ToolCall>& gold,
                             const std::vector<ToolCall>& predicted,
                             const std::vector<ToolSpec>& tools);

// Answers match when, after trimming, lowercasing and collapsing spaces, they have the same
// comma-separated parts, each equal as text or (when both parse as numbers) as a number.
bool answers_match(std::string_view gold, std::string_view predicted);

// An episode succeeds when its answer matches and every gold call was made (extra calls such
// as list_fields are allowed); when the gold has no calls (irrelevance) no call may be made.
bool episode_success(const std::vector<ToolCall>& gold_calls, std::string_view gold_answer,
                     const std::vector<ToolCall>& made_calls, std::string_view answer,
                     const std::vector<ToolSpec>& tools);

}  // namespace tenx::agent
