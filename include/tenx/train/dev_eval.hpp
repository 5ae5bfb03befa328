#pragma once
// Dev answer accuracy: the held-out dev items of a recipe (data.hpp, SuiteTexts::dev) answered by a
// trained model through the inference core (Decoder + generation.hpp), greedy and deterministic,
// per suite and task. The trainer runs it at its eval cadence and at the end; `tenx train
// --dev-eval MODEL` runs it on a finished model. Test-split evaluation is src/eval's job.
//
// Per item type:
//   choice   - [bos] context is run once; each choice continues from a copy of that cache; the
//              answer is the choice with the highest summed log-likelihood (first on ties).
//   generate - greedy generation from [bos] prompt until eos, a stop string or max_tokens, then
//              suites::generate_matches (exact or numeric, as the item says).
//   agent    - a proxy: the greedy first model turn (until eos or "<result>") against the gold
//              trajectory's first turn (the text before its first "<result>"), whitespace-trimmed.
//              The full multi-turn agent loop with tool execution is the evaluation's job.
// Images: with a projector the marker becomes the image's patches (build_multimodal_prompt); without
// one the marker stays a token of the text, as a text-only recipe trained it.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tenx/model/model.hpp"
#include "tenx/model/vision.hpp"
#include "tenx/ops/context.hpp"
#include "tenx/suites/suite.hpp"
#include "tenx/train/data.hpp"

namespace tenx::train {

struct DevTaskAccuracy {
  std::string suite, task;
  suites::ItemType type = suites::ItemType::choice;
  int64_t items = 0, correct = 0;
  double chance = 0;                           // suite.json's chance for the task
  std::vector<suites::Reference> references;  // suite.json's simple references (test split)
  double accuracy() const { return items ? static_cast<double>(correct) / static_cast<double>(items) : 0.0; }
  std::string key() const { return suite + "/" + task; }
};

// The dev items scored: per suite, in dev order, at most items_per_task of each task (0: none).
std::vector<const suites::Item*> dev_items_of(const SuiteTexts& suite, int64_t items_per_task);

// Whether `model` (with `projector` for image items, or nullptr) answers one item correctly.
bool dev_item_correct(ExecContext& ctx, const Model& model, const Tokenizer& tokenizer,
                      const VisionProjector* projector, const suites::Item& item);

// Per suite and task (in the suites' order, tasks in suite.json order; tasks without dev items left
// out). Throws tenx::Error when a dev example has no item (texts not from load_suite_texts).
std::vector<DevTaskAccuracy> evaluate_dev(ExecContext& ctx, const Model& model, const VisionProjector* projector,
                                          const std::vector<SuiteTexts>& texts, int64_t items_per_task);

// {"suite/task": accuracy, ...} for the training log.
nlohmann::ordered_json dev_accuracy_json(const std::vector<DevTaskAccuracy>& results);

// Suite-level summary: mean over the suite's scored items of correctness, and of their tasks' chance.
struct DevSuiteSummary {
  std::string suite;
  int64_t items = 0;
  double accuracy = 0, chance = 0;
  // The standard deviation of `accuracy` if every item were guessed at its task's chance
  // (independent Bernoulli items: sqrt(sum c(1-c)) / items), and how many of those the model is
  // above chance: z = (accuracy - chance) / chance_sd (+inf when chance_sd is 0 and it is above).
  double chance_sd = 0;
  double z() const;
};
std::vector<DevSuiteSummary> summarise_dev(const std::vector<DevTaskAccuracy>& results);

}  // namespace tenx::train
