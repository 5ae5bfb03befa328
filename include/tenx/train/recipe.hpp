#pragma once
// A training recipe (JSON, docs/training.md): the model's dimensions, the data
// (suites and their proportions), the optimizer, the loss, an optional teacher,
// the seed and where the model goes. Every field is checked when read; errors
// name the file and the field.
#include <cstdint>
#include <string>
#include <vector>

namespace tenx::train {

enum class LossMask { Answer, All };  // train on the answer tokens only / on every token

struct RecipeSuite {
  std::string suite;               // shipped suite name or folder
  double weight = 1.0;             // share of the documents drawn from it
  std::vector<std::string> tasks;  // only these tasks (empty: all)
  int64_t max_items = 0;           // use at most this many items of the split (0: all)
};

struct Recipe {
  std::string path;    // where it was read from (error subject)
  std::string name;
  std::string digest;  // SHA-256 of the file's bytes
  uint64_t seed = 0;

  // model
  int64_t dim = 64, layers = 2, heads = 4, kv_heads = 4, ffn = 176, vocab = 512, ctx = 256;
  float rope_base = 10000.0f;

  // vision (optional "vision" block): an image projector of P×P patches on a grid of at
  // most max_grid × max_grid, trained with the model and exported as NAME.mmproj.gguf.
  bool vision = false;
  int64_t vision_patch = 4, vision_max_grid = 8;

  // data
  std::vector<RecipeSuite> suites;
  std::string split = "train";
  double dev_fraction = 0.02;  // held out of the split for the dev loss
  LossMask mask = LossMask::Answer;

  // optimizer
  float lr = 1e-3f, min_lr_ratio = 0.1f;
  int64_t warmup = 0;
  int64_t steps = 0;   // either steps or tokens (then steps = tokens / (batch · seq_len), rounded up)
  int64_t tokens = 0;
  int64_t batch = 8, seq_len = 128;
  float weight_decay = 0.1f, clip = 1.0f, beta1 = 0.9f, beta2 = 0.95f;

  // teacher (distillation)
  std::string teacher;  // model path; empty: none
  float temperature = 2.0f, alpha = 0.5f;

  // cadence and outputs
  int64_t eval_every = 0, eval_batches = 2;
  int64_t eval_dev_items_per_task = 20;  // dev answer accuracy: items per task (0: off; dev_eval.hpp)
  int64_t checkpoint_every = 0;
  std::string checkpoint;  // checkpoint path as given (empty: output + ".ckpt")
  std::string output;      // model path
  std::string log;         // JSONL log path as given (empty: output + ".log.jsonl")

  int64_t total_steps() const;
  std::string checkpoint_path() const { return checkpoint.empty() ? output + ".ckpt" : checkpoint; }
  std::string log_path() const { return log.empty() ? output + ".log.jsonl" : log; }
};

// Parses the JSON text; relative paths stay as written (the CLI resolves them).
Recipe parse_recipe(const std::string& json_text, const std::string& path);
Recipe load_recipe(const std::string& path);

}  // namespace tenx::train
