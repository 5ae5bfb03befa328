#pragma once
// `tenx train`: the whole run from a recipe. Trains (or, resuming, reloads) the
// BPE vocabulary, tokenizes the suites, then steps: batch -> (teacher logits) ->
// forward -> backward -> clip -> AdamW, logging every step as one JSON line and
// showing progress on a terminal; evaluates on the dev split and checkpoints at
// the recipe's cadence; finally writes the model GGUF with its training compute.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "tenx/train/dev_eval.hpp"
#include "tenx/train/export.hpp"
#include "tenx/train/recipe.hpp"

namespace tenx::train {

struct TrainOptions {
  int threads = 1;
  std::filesystem::path suites_dir;  // where shipped suite names resolve (empty: default)
  bool resume = false;               // continue from recipe.checkpoint when it exists
  int64_t stop_after = 0;            // > 0: stop (with a checkpoint) after this many steps of this run
  bool progress = false;             // a live progress line on stderr
};

struct TrainResult {
  TrainingRecord record;
  double last_loss = 0;
  double dev_loss = -1;     // last dev evaluation (-1: none)
  std::vector<DevTaskAccuracy> dev_accuracy;  // last dev answer accuracy (empty: none)
  int64_t n_params = 0;
  int64_t next_step = 0;    // == total steps when finished
  bool finished = false;    // false when stopped early by stop_after
  double tokens_per_second = 0;
};

TrainResult run_training(const Recipe& recipe, const TrainOptions& options);

}  // namespace tenx::train
