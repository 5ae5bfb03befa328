#pragma once
// `tenx run`: every model on exactly the same items of the chosen suites, one item at a time, with
// a per-item record appended to a journal (run_dir/journal.jsonl, flushed and fsync'd per batch of
// records). A run killed at any moment resumes from its folder and ends with the same records as an
// uninterrupted run. When every (model, item) is done, run_dir/items.jsonl holds all records in the
// canonical order (models in argument order, then suites, then the selected item order) and is
// written atomically (temp file + rename), as is run_dir/run.json (the manifest, record.hpp).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tenx/eval/run/record.hpp"
#include "tenx/remote/client.hpp"

namespace tenx::eval {

struct ModelArg {
  std::string name;  // NAME of --model NAME=PATH
  std::string path;  // GGUF file or Hugging Face folder (its projector is found beside it), or a
                     // server: http(s)://HOST:PORT/v1#model=ID (docs/remote.md)
};

struct RunOptions {
  std::vector<ModelArg> models;
  std::vector<std::string> suites;  // names of shipped suites or folders; {"all"} = the four shipped
  std::filesystem::path suites_dir; // where shipped suite names resolve (default: the data/suites of the build)
  std::string split = "test";
  int64_t limit = 0;                // 0: every item; else a seeded subset stratified by task, the same for every model
  uint64_t seed = 0;
  // --shard I/N (docs/ci.md): evaluate part I (1-based) of N of the selection (shard_positions in
  // item_runner.hpp); 0/0: all of it. `tenx merge` joins the N run folders into one.
  int shard_index = 0, shard_count = 0;
  int threads = 1;
  int batch = 0;                    // --batch K: items in flight per local model; 0: default_batch
  // --protocol (docs/protocols.md): "completion", "chat", or "" = chat for a model with a chat
  // template, completion otherwise. --shots K: worked examples per choice/generate item from the
  // suite's train split, drawn with `seed`, the same for every model.
  std::string protocol;
  // --tool-format (docs/tool-calls.md): the format agent items call tools in under chat; "" =
  // detected from each model's template.
  std::string tool_format;
  // --choice-method (choice_letter.hpp, docs/protocols.md): "loglik", "letter", or "" = letter
  // for a remote model over a chat API (it has no prompt log-probabilities), loglik otherwise.
  std::string choice_method;
  int shots = 0;
  std::filesystem::path out_dir;    // the run folder
  bool resume = false;              // continue the run in out_dir (its run.json fixes the items)
  bool quiet = false;               // no progress output
  std::vector<std::string> argv;    // recorded in run.json
  // Remote models (docs/remote.md): the client's timeouts, retries, concurrency and --cache, and
  // --arch NAME=FILE (model name -> architecture file for analytic compute).
  remote::ClientOptions remote;
  std::map<std::string, std::string> arch_files;
  // --mmproj NAME=FILE: the vision encoder (an llama.cpp mmproj) or tenx-patch projector of local
  // model NAME, instead of NAME.mmproj.gguf beside its file (docs/vision.md, "In tenx run").
  std::map<std::string, std::string> mmproj_files;
};

// What the runner reports while it works (the CLI draws the progress bar from it).
struct Progress {
  std::string model, suite;
  int64_t done = 0, total = 0;   // items of this model × suite
  int64_t done_all = 0, total_all = 0;
  double elapsed_seconds = 0;
};
using ProgressFn = std::function<void(const Progress&)>;

// Runs (or resumes) the evaluation. Throws tenx::Error on bad input (missing model/suite, a run
// folder that belongs to a different run when resuming, a non-empty out_dir without --resume).
RunResult run_evaluation(const RunOptions& options, const ProgressFn& progress = {});

// Reads a finished run folder (run.json + items.jsonl). Throws tenx::Error naming the file.
RunResult read_run(const std::filesystem::path& run_dir);

}  // namespace tenx::eval
