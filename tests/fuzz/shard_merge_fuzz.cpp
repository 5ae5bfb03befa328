// `tenx merge` (eval/run/merge.hpp): the shard folders it reads and joins. The input is cut into
// parts ("\n--part--\n"): run.json, items.jsonl of shard 1, then of shard 2, ... (at most 4
// shards). Each folder is read as read_run reads it, the ones that read are merged, and a merge
// that succeeds is written and read back. Invariants (findings when broken): a merge keeps every
// record of its shards exactly once, and the written folder reads back to the same records.
#include <cstdio>
#include <cstdlib>

#include "fuzz_support.hpp"
#include "tenx/eval/run/merge.hpp"
#include "tenx/eval/run/runner.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fs = std::filesystem;
  const std::vector<std::string_view> parts = tenx_fuzz::split_parts(tenx_fuzz::as_view(data, size));
  std::vector<tenx::eval::ShardRun> shards;
  for (size_t i = 0; i + 1 < parts.size() && i < 8; i += 2) {
    const fs::path dir = tenx_fuzz::scratch_dir() / ("shard-" + std::to_string(i / 2));
    fs::create_directories(dir);
    tenx_fuzz::write_file(dir / "run.json", parts[i]);
    tenx_fuzz::write_file(dir / "items.jsonl", parts[i + 1]);
    tenx_fuzz::guarded([&] { shards.push_back({dir, tenx::eval::read_run(dir)}); });
  }
  const fs::path out = tenx_fuzz::scratch_dir() / "merged";
  std::error_code ec;
  fs::remove_all(out, ec);
  tenx_fuzz::guarded([&] {
    const tenx::eval::RunResult merged = tenx::eval::merge_shards(shards, out);
    size_t records = 0;
    for (const auto& s : shards) records += s.run.records.size();
    if (merged.records.size() != records) {
      std::fprintf(stderr, "tenx fuzz: merge kept %zu of %zu records\n", merged.records.size(), records);
      std::abort();
    }
    tenx::eval::write_merged_run(merged, out);
    const tenx::eval::RunResult back = tenx::eval::read_run(out);
    if (back.records.size() != merged.records.size() ||
        tenx::eval::to_json(back.manifest) != tenx::eval::to_json(merged.manifest)) {
      std::fprintf(stderr, "tenx fuzz: the merged folder does not read back as written\n");
      std::abort();
    }
  });
  return 0;
}
