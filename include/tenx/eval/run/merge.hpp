#pragma once
// `tenx merge`: the N run folders of `tenx run --shard I/N` (docs/ci.md) joined into the run one
// `tenx run` without --shard would have recorded: the same manifest (models, suites, selection,
// seed, limit) and the records in the canonical order (runner.hpp). Checks that the folders belong
// together before anything is joined.
#include <filesystem>
#include <string>
#include <vector>

#include "tenx/eval/run/record.hpp"

namespace tenx::eval {

struct ShardRun {
  std::filesystem::path dir;
  RunResult run;  // read_run(dir)
};

// Joins shards read from their folders. Throws tenx::Error naming the folder and what differs:
// not a shard; a different tenx build, thread count, seed, --limit, split, N, model (by SHA-256)
// or suite (by name and data SHA-256); a shard given twice or overlapping items; a shard missing;
// records that do not match the shard's own selection. `out_dir` goes into the merged argv.
RunResult merge_shards(const std::vector<ShardRun>& shards, const std::filesystem::path& out_dir);

// Writes run.json, items.jsonl and journal.jsonl of a merged run into `dir` (new or empty),
// byte for byte as the runner writes them. Throws tenx::Error naming the folder.
void write_merged_run(const RunResult& run, const std::filesystem::path& dir);

}  // namespace tenx::eval
