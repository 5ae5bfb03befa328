#pragma once
// Chance levels and the simplest reference scores of a generated suite's tasks, computed from
// its splits, so every suite.json can show them (docs/suite-format.md, "References").
#include <string>
#include <vector>

#include "tenx/suites/generator.hpp"

namespace tenx::suites {

// The answer an item's gold stands for: the gold choice's text, or the first target.
std::string gold_answer(const Item& item);

// For every choice and generate task of `suite` that has test items: sets `chance` (mean of
// 1/number of choices over its test items; 0 for generate) and adds, unless already present,
// "majority" (the most frequent training answer - the gold position for choice items, the
// first target for generate items; lowest on ties - applied to every test item). With `question_majority`, also "question_majority": the most frequent training answer
// among items with the same question text (image marker removed), falling back to the overall
// majority - what a model that ignores the image can reach.
void add_standard_references(GeneratedSuite& suite, bool question_majority = false);

// True when `answer` would be scored right on `item` (choice: equals the gold choice's text;
// generate: generate_matches).
bool answer_is_right(const Item& item, const std::string& answer);

}  // namespace tenx::suites
