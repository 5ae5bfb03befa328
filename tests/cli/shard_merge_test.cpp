// `tenx run --shard I/N` and `tenx merge` (#17 §2, docs/ci.md) end to end on the shipped models:
// three shards merged are the run one `tenx run` records, byte for byte outside the fields that
// measure time, memory of the process or name the folder; shards that do not belong together are
// refused with exit 2, naming the folder and what differs.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "eval/records_jsonl.hpp"
#include "run_cli.hpp"

namespace tenx::test {
namespace {

using Json = nlohmann::ordered_json;
using tenx::eval::testing::records_without_timing;

// What may differ between one run and its merged shards: wall-clock measurements (per item and
// their aggregates), the process's memory as measured (peak RSS; working_bytes, which counts the
// logits buffer's capacity, so it depends on the order the process met its items: measured 16 KiB
// apart on --suites all --limit 60 in 4 shards), the start date, the command line (its --out
// names the folder) and the merge's provenance. Everything else must be equal.
const std::vector<std::string> kReportFieldsNotCompared = {
    "/environment/date", "/environment/argv",  // the run's start and its folder
};
// Erased wherever they occur in report.json: "latency" (per model × suite/task: seconds,
// percentiles, items/s), "seconds" (items' per-item wall time), "peak_rss_bytes" and
// "working_bytes" (models' memory as measured).
const std::set<std::string> kReportKeysNotCompared = {"latency", "seconds", "peak_rss_bytes", "working_bytes"};

std::string models() {
  const std::string dir = std::string(TENX_SOURCE_DIR) + "/data/models/";
  return "--model compact=" + dir + "compact.gguf --model baseline=" + dir + "baseline.gguf";
}
// Small enough for seconds (~2 s for the whole run on 2 cores), and every kind of item: the four
// shipped suites (choice, generate, agent, image items with their blind controls), 12 items each.
std::string run_args(const std::string& extra, int seed = 7, const std::string& model_args = models()) {
  return "run " + model_args + " --suites all --limit 12 --seed " + std::to_string(seed) +
         " --quiet --formats json " + extra;
}

void erase_keys(Json& j) {
  if (j.is_object()) {
    for (const std::string& k : kReportKeysNotCompared) j.erase(k);
    for (auto& [key, value] : j.items()) erase_keys(value);
  } else if (j.is_array()) {
    for (Json& v : j) erase_keys(v);
  }
}

Json report_without_timing(const std::filesystem::path& file) {
  Json j = Json::parse(slurp(file));
  for (const std::string& pointer : kReportFieldsNotCompared) {
    const Json::json_pointer p(pointer);
    EXPECT_TRUE(j.contains(p)) << pointer;
    j[p.parent_pointer()].erase(p.back());
  }
  erase_keys(j);
  return j;
}

class ShardMerge : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    for (const std::string& run : {"--out " + (*dir_ / "one"), "--shard 1/3 --out " + (*dir_ / "s1"),
                                   "--shard 2/3 --out " + (*dir_ / "s2"), "--shard 3/3 --out " + (*dir_ / "s3")}) {
      const CliResult r = run_tenx(run_args(run));
      ASSERT_EQ(r.code, 0) << run << "\n" << r.err;
    }
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string at(const std::string& name) { return *dir_ / name; }
  static TempDir* dir_;
};
TempDir* ShardMerge::dir_ = nullptr;

TEST_F(ShardMerge, ThreeShardsSplitTheSelectionDisjointlyAndByTask) {
  const Json one = Json::parse(slurp(at("one") + "/run.json"));
  std::map<std::string, std::set<std::string>> seen;  // suite -> ids over the shards
  for (const char* s : {"s1", "s2", "s3"}) {
    const Json shard = Json::parse(slurp(at(s) + "/run.json"));
    EXPECT_EQ(shard["shard"]["count"], 3);
    for (const auto& [suite, ids] : shard["selected_items"].items()) {
      // 12 items per suite: 4 per shard (the deal continues across tasks), but where blind
      // controls follow their image items' shards.
      if (suite != "multimodal") {
        EXPECT_EQ(ids.size(), 4u) << s << " " << suite;
      }
      for (const auto& id : ids) EXPECT_TRUE(seen[suite].insert(id.get<std::string>()).second) << id << " twice";
    }
  }
  for (const auto& [suite, ids] : one["selected_items"].items()) {
    const std::set<std::string> whole(ids.begin(), ids.end());
    EXPECT_EQ(seen[suite], whole) << suite;
  }
  // By task: a task's items in the shards differ by at most one.
  std::map<std::string, std::map<std::string, int>> per_task;  // task -> shard -> items
  for (const char* s : {"s1", "s2", "s3"})
    for (const Json& r : records_without_timing(at(s) + "/items.jsonl"))
      if (r["model"] == "compact") ++per_task[r["task"].get<std::string>()][s];
  ASSERT_GT(per_task.size(), 8u);
  for (const auto& [task, counts] : per_task) {
    int lo = 1 << 30, hi = 0;
    for (const char* s : {"s1", "s2", "s3"}) {
      const int n = counts.count(s) ? counts.at(s) : 0;
      lo = std::min(lo, n);
      hi = std::max(hi, n);
    }
    EXPECT_LE(hi - lo, 1) << task;
  }
}

TEST_F(ShardMerge, MergedShardsAreTheOneRunOutsideTiming) {
  const CliResult m = run_tenx("merge " + at("s3") + " " + at("s1") + " " + at("s2") + " --quiet --formats json --out " +
                               at("merged"));
  ASSERT_EQ(m.code, 0) << m.err;
  const auto one = records_without_timing(at("one") + "/items.jsonl");
  const auto merged = records_without_timing(at("merged") + "/items.jsonl");
  ASSERT_EQ(one.size(), 2u * 4u * 12u);  // models × suites × items
  std::set<std::string> types;
  for (const Json& r : one) types.insert(r["type"].get<std::string>());
  EXPECT_EQ(types, (std::set<std::string>{"choice", "generate", "agent"}));
  ASSERT_EQ(merged.size(), one.size());
  for (size_t i = 0; i < one.size(); ++i) EXPECT_EQ(merged[i].dump(), one[i].dump()) << "record " << i;
  EXPECT_EQ(slurp(at("merged") + "/journal.jsonl"), slurp(at("merged") + "/items.jsonl"));
  EXPECT_EQ(report_without_timing(at("merged") + "/report.json").dump(2),
            report_without_timing(at("one") + "/report.json").dump(2));

  // run.json: the same run; the merge names its shards.
  Json a = Json::parse(slurp(at("one") + "/run.json")), b = Json::parse(slurp(at("merged") + "/run.json"));
  ASSERT_EQ(b["merged_from"].size(), 3u);
  EXPECT_EQ(b["merged_from"][0]["index"], 1);
  EXPECT_FALSE(b.contains("shard"));
  for (Json* j : {&a, &b}) {
    for (const char* k : {"date", "argv", "merged_from"}) j->erase(k);
    for (Json& model : (*j)["models"]) {
      model.erase("peak_rss_bytes");
      model.erase("working_bytes");
    }
  }
  EXPECT_EQ(b.dump(2), a.dump(2));
  // The argv is the one run's: no --shard, the merged folder as --out.
  const Json argv = Json::parse(slurp(at("merged") + "/run.json"))["argv"];
  EXPECT_EQ(argv.dump().find("--shard"), std::string::npos);
  EXPECT_EQ(argv.back(), at("merged"));

  // tenx verify --run decides on the merged run as on the one run.
  const std::string verify = "verify --baseline baseline --candidate compact --suites reasoning --quiet --formats json --run ";
  const CliResult v1 = run_tenx(verify + at("one") + " --out " + at("v1"));
  const CliResult v2 = run_tenx(verify + at("merged") + " --out " + at("v2"));
  EXPECT_NE(v1.code, 2) << v1.err;
  EXPECT_EQ(v2.code, v1.code) << v2.err;
  EXPECT_NE(v2.out.find("verdict: "), std::string::npos) << v2.out;
  // The verdict text, but for the measured latency ratio, the line with the peak memory ratio
  // (working_bytes, above) and the report folder.
  const auto untimed = [](const std::string& out) {
    std::istringstream in(out);
    std::string line, kept;
    while (std::getline(in, line))
      if (line.rfind("  latency per item:", 0) != 0 && line.find("peak memory:") == std::string::npos &&
          line.rfind("reports: ", 0) != 0)
        kept += line + "\n";
    return kept;
  };
  EXPECT_NE(untimed(v1.out).find("FLOPs per item"), std::string::npos) << v1.out;
  EXPECT_EQ(untimed(v2.out), untimed(v1.out));
}

TEST_F(ShardMerge, OverlappingShardsAreRefused) {
  const CliResult r = run_tenx("merge " + at("s1") + " " + at("s2") + " " + at("s2") + " " + at("s3") + " --out " +
                               at("overlap"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("tenx: error: " + at("s2") + ": shard 2/3 again: " + at("s2") +
                       " is shard 2/3 too (overlapping shards)"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(at("overlap") + "/run.json"));
}

TEST_F(ShardMerge, AMissingShardIsRefused) {
  const CliResult r = run_tenx("merge " + at("s1") + " " + at("s3") + " --out " + at("missing"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("shard 2/3 is missing (given: 1/3 in " + at("s1") + ", 3/3 in " + at("s3") + ")"),
            std::string::npos)
      << r.err;
}

TEST_F(ShardMerge, AShardOfAnotherRunIsRefusedNamingWhatDiffers) {
  // Another seed: another selection.
  ASSERT_EQ(run_tenx(run_args("--shard 3/3 --out " + at("seed8"), 8)).code, 0);
  CliResult r = run_tenx("merge " + at("s1") + " " + at("s2") + " " + at("seed8") + " --out " + at("bad_seed"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(at("seed8") + ": the seed (--seed) differs from " + at("s1") + ": '7' there, '8' here"),
            std::string::npos)
      << r.err;
  // Another model under the same name: told apart by its SHA-256.
  const std::string dir = std::string(TENX_SOURCE_DIR) + "/data/models/";
  const std::string swapped = "--model compact=" + dir + "baseline.gguf --model baseline=" + dir + "baseline.gguf";
  ASSERT_EQ(run_tenx(run_args("--shard 3/3 --out " + at("other_model"), 7, swapped)).code, 0);
  r = run_tenx("merge " + at("s1") + " " + at("s2") + " " + at("other_model") + " --out " + at("bad_model"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(at("other_model") + ": the model 'compact' (sha256) differs from " + at("s1")),
            std::string::npos)
      << r.err;
  // Another N.
  ASSERT_EQ(run_tenx(run_args("--shard 2/2 --out " + at("half"))).code, 0);
  r = run_tenx("merge " + at("s1") + " " + at("half") + " --out " + at("bad_n"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(at("half") + ": the number of shards (--shard I/N) differs from " + at("s1") +
                       ": '3' there, '2' here"),
            std::string::npos)
      << r.err;
  // A whole run is not a shard.
  r = run_tenx("merge " + at("one") + " " + at("s2") + " --out " + at("not_shard"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(at("one") + ": not a shard"), std::string::npos) << r.err;
}

TEST_F(ShardMerge, ShardsOfOtherCpuFlagsAreMergedWithAWarning) {
  // Shard 3 as if run on a machine without AVX-512: its run.json says so.
  const std::filesystem::path other = at("s3_avx2");
  std::filesystem::copy(at("s3"), other, std::filesystem::copy_options::recursive);
  Json m = Json::parse(slurp(other / "run.json"));
  const std::string flags = m["cpu_flags"].get<std::string>();
  m["cpu_flags"] = "fma avx2";
  std::ofstream(other / "run.json") << m.dump(2) << "\n";
  const CliResult r = run_tenx("merge " + at("s1") + " " + at("s2") + " " + other.string() +
                               " --quiet --formats json --out " + at("mixed"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("tenx merge: warning: the shards ran on CPUs of different SIMD flags (" + at("s1") + ": '" +
                       flags + "'; " + other.string() + ": 'fma avx2')"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(Json::parse(slurp(at("mixed") + "/run.json"))["cpu_flags"], flags + " | fma avx2");
}

TEST(ShardOption, ABadShardIsExitTwoBeforeAnyWork) {
  TempDir dir;
  for (const std::string bad : {"0/3", "4/3", "3", "a/3", "1/0", "-1/2", "1/3/2"}) {
    const CliResult r = run_tenx(run_args("--shard " + bad + " --out " + (dir / "out")));
    EXPECT_EQ(r.code, 2) << bad;
    EXPECT_NE(r.err.find("tenx: error: --shard: expected I/N with 1 <= I <= N, got '" + bad + "'"), std::string::npos)
        << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir.path / "out")) << bad;
  }
}

TEST(ShardOption, ResumingWithAnotherShardIsRefused) {
  TempDir dir;
  ASSERT_EQ(run_tenx(run_args("--shard 1/2 --out " + (dir / "s"))).code, 0);
  const CliResult r = run_tenx(run_args("--shard 2/2 --resume " + (dir / "s")));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("the run in this folder has --shard 1/2, the arguments give 2/2"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace tenx::test
