#pragma once
// Private to the reasoning suite: the task generators (reasoning_babi.cpp,
// reasoning_arith.cpp, reasoning_tables.cpp) and the assembly in reasoning.cpp.
// A task generator draws one item body from an Rng; the assembly gives ids, keeps test and
// train apart by content, and computes chance levels and reference scores.
#include <functional>
#include <string>
#include <vector>

#include "tenx/suites/reasoning.hpp"
#include "tenx/suites/suite.hpp"
#include "tenx/util/rng.hpp"

namespace tenx::suites::reasoning {

enum class Split { train, test };

struct TaskSpec {
  std::string name;
  ItemType type = ItemType::generate;
  int difficulty = 1;
  std::string description;
  // Draws one item (body and meta; id and task are set by the assembly).
  std::function<Item(Rng&, Split)> draw;
};

// Builds a generate item: `prompt` ends in "A:", the target is one word or number.
Item make_generate(std::string prompt, std::string target, int max_tokens = 8);
// Builds a choice item; choices are written without the leading space (added here).
Item make_choice(std::string context, const std::vector<std::string>& choices, int gold);

std::vector<TaskSpec> babi_tasks();
std::vector<TaskSpec> arithmetic_tasks();
// Rows are the test or train patients of each table (see test_patient_rows).
std::vector<TaskSpec> table_tasks(const std::filesystem::path& raw_dir);

}  // namespace tenx::suites::reasoning
