#pragma once
// Constructed runs for the metrics, report and verify tests: a manifest and per-item records
// built by hand, so every expected figure can be computed on paper.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <unistd.h>
#include <string>
#include <vector>

#include "tenx/eval/run/runner.hpp"

namespace tenx::eval::testing {

inline ModelInfo model_info(const std::string& name, uint64_t weight_bytes, uint64_t rss) {
  ModelInfo m;
  m.name = name;
  m.path = "/models/" + name + ".gguf";
  m.sha256 = std::string(64, 'a');
  m.architecture = "llama";
  m.n_params = static_cast<int64_t>(weight_bytes / 4);
  m.weight_bytes = weight_bytes;
  m.weight_bytes_by_type = {{"F32", weight_bytes / 4}, {"Q8_0", weight_bytes - weight_bytes / 4}};
  m.kv_bytes_peak = 1 << 20;
  m.working_bytes = 1 << 16;
  m.peak_rss_bytes = rss;
  m.flops_per_token = weight_bytes / 2;
  return m;
}

inline SuiteRef suite_ref(const std::string& name, int64_t items) {
  SuiteRef s;
  s.name = name;
  s.path = "data/suites/" + name;
  s.version = "1";
  s.split = "test";
  s.sha256 = std::string(64, 'b');
  s.items_total = items;
  s.items_selected = items;
  return s;
}

inline ItemRecord choice_record(const std::string& model, const std::string& suite, int i,
                                const std::string& task, bool correct, uint64_t flops, double seconds) {
  ItemRecord r;
  r.model = model;
  r.suite = suite;
  r.item = suite + "-" + std::to_string(1000 + i);  // sorts like the run order
  r.task = task;
  r.type = "choice";
  r.correct = correct;
  r.correct_norm = correct;
  r.score = correct ? 1.0 : 0.0;
  r.loglik = {-1.0, -2.0};
  r.choice_bytes = {3, 4};
  r.gold = correct ? 0 : 1;
  r.predicted = 0;
  r.tokens_in = 20;
  r.flops = flops;
  r.flops_naive = 2 * flops;
  r.bytes_read = 1000;
  r.seconds = seconds;
  return r;
}

// Two models on one suite of n items in two tasks: the baseline is right where
// `base_right(i)`, the candidate where `cand_right(i)`; FLOPs per item and seconds fixed.
template <class BaseRight, class CandRight>
RunResult paired_run(int n, BaseRight base_right, CandRight cand_right, uint64_t base_flops,
                     uint64_t cand_flops, const std::string& suite = "reasoning") {
  RunResult run;
  run.manifest.tenx_version = "0.1.0";
  run.manifest.git_commit = "0123456789abcdef";
  run.manifest.compiler = "gcc 12";
  run.manifest.cpu_model = "test CPU";
  run.manifest.cpu_flags = "avx2 fma";
  run.manifest.date = "2026-11-26T07:00:00Z";
  run.manifest.argv = {"tenx", "verify"};
  run.manifest.threads = 2;
  run.manifest.models = {model_info("big", 400000000, 900000000), model_info("small", 40000000, 100000000)};
  run.manifest.suites = {suite_ref(suite, n)};
  for (const char* model : {"big", "small"}) {
    const bool big = std::string(model) == "big";
    for (int i = 0; i < n; ++i) {
      const bool right = big ? base_right(i) : cand_right(i);
      run.records.push_back(choice_record(model, suite, i, i % 2 ? "odd" : "even", right,
                                          big ? base_flops : cand_flops, big ? 0.2 : 0.02));
      if (run.manifest.selected_items[suite].size() < static_cast<size_t>(n))
        run.manifest.selected_items[suite].push_back(run.records.back().item);
    }
  }
  return run;
}

// Every choice record gets k choices (chance 1/k): fixtures with few items need a low chance for
// the baseline to clear the assay-sensitivity test (#16).
inline RunResult with_choices(RunResult run, int k) {
  for (ItemRecord& r : run.records) {
    r.loglik.assign(static_cast<size_t>(k), -5.0);
    r.loglik[0] = -1.0;
    r.choice_bytes.assign(static_cast<size_t>(k), 3);
  }
  return run;
}

// Writes a finished run folder (run.json + items.jsonl) as the runner leaves it.
inline void write_run_folder(const RunResult& run, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "run.json") << to_json(run.manifest).dump(2) << "\n";
  std::ofstream items(dir / "items.jsonl");
  for (const ItemRecord& r : run.records) items << to_json(r).dump() << "\n";
}

inline std::filesystem::path fresh_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("tenx-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace tenx::eval::testing
