// The soak's definitions (soak_check.hpp) on constructed figures, and tenx_soak itself: a tiny
// model over the shipped suites, three iterations in one process, must give the same digest each
// time, the digest a separate `tenx run` process gives, and flat descriptors and RSS.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "eval/child_process.hpp"
#include "eval/runner_fixtures.hpp"
#include "soak/soak_check.hpp"

namespace tenx::soak {
namespace {

namespace fs = std::filesystem;
using eval::testing::TempDir;
using tenx::testing::run_child;

eval::RunResult two_records() {
  eval::RunResult run;
  run.manifest.selected_items["s"] = {"a", "b"};
  for (const char* id : {"a", "b"}) {
    eval::ItemRecord r;
    r.model = "m";
    r.suite = "s";
    r.item = id;
    r.task = "t";
    r.type = "choice";
    r.loglik = {-1.25, -3.5};
    r.choice_bytes = {2, 3};
    r.predicted = 0;
    r.gold = 0;
    r.correct = true;
    r.flops = 1000;
    r.seconds = 0.5;
    run.records.push_back(r);
  }
  return run;
}

TEST(SoakCheck, DigestIgnoresTheTimingFieldsAndNothingElse) {
  const eval::RunResult base = two_records();
  const std::string d = results_digest(base);
  EXPECT_EQ(d.size(), 64u);

  eval::RunResult timed = base;
  timed.records[1].seconds = 99;
  timed.records[1].time_to_first_token = 7;
  timed.records[1].decode_seconds_per_token = 0.1;
  timed.manifest.models.clear();
  timed.manifest.date = "another day";
  EXPECT_EQ(results_digest(timed), d);

  // One ulp of one log-likelihood, one byte of output, one FLOP, one token: all differ.
  eval::RunResult x = base;
  x.records[1].loglik[0] = std::nextafter(x.records[1].loglik[0], 0.0);
  EXPECT_NE(results_digest(x), d);
  x = base;
  x.records[0].output = "x";
  EXPECT_NE(results_digest(x), d);
  x = base;
  x.records[0].flops += 1;
  EXPECT_NE(results_digest(x), d);
  x = base;
  x.records[0].tokens_out = 1;
  EXPECT_NE(results_digest(x), d);
  x = base;
  x.manifest.selected_items["s"] = {"b", "a"};
  EXPECT_NE(results_digest(x), d);
}

TEST(SoakCheck, RunDifferencesNameTheRecordAndTheField) {
  const eval::RunResult a = two_records();
  eval::RunResult b = a;
  b.records[1].loglik[1] = -3.25;
  const std::vector<std::string> d = run_differences(a, b);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0], "record 1 (m/s/b): differs in loglik");
  EXPECT_EQ(d[1], "1 of 2 records differ");
  b.records.pop_back();
  EXPECT_EQ(run_differences(a, b).front(), "records: 2 expected, 1 found");
  EXPECT_TRUE(run_differences(a, a).empty());
}

Iteration iteration(int k, uint64_t rss_mib, int64_t fds, const std::string& digest = "d", uint64_t heap_kib = 1000) {
  Iteration x;
  x.index = k;
  x.records = 10;
  x.current_rss_bytes = rss_mib << 20;
  x.untrimmed_rss_bytes = x.peak_rss_bytes = (rss_mib + 50) << 20;  // reported, not checked
  x.heap_in_use_bytes = heap_kib << 10;
  x.open_fds = fds;
  x.digest = digest;
  return x;
}

TEST(SoakCheck, ProblemsAreDigestsFdsRssAndHeapBeyondIterationTwoPlusTheAllowance) {
  // Iteration 1 may be larger (first touch); 100 MiB at iteration 2 allows 100 + 5 + 4 = 109 MiB.
  EXPECT_TRUE(soak_problems({iteration(1, 150, 5), iteration(2, 100, 5), iteration(3, 109, 5)}).empty());
  EXPECT_EQ(rss_allowed(iteration(2, 100, 5), {}), 109ull << 20);
  const auto grew = soak_problems({iteration(1, 150, 5), iteration(2, 100, 5), iteration(3, 110, 5)});
  ASSERT_EQ(grew.size(), 1u);
  EXPECT_EQ(grew[0], "iteration 3: RSS 115343360 bytes exceeds iteration 2's allowance of 114294784");
  // Heap: 1000 KiB at iteration 2 allows 1000 KiB + 1 % + 64 KiB = 1099776 bytes.
  EXPECT_TRUE(soak_problems({iteration(1, 100, 5), iteration(2, 100, 5), iteration(3, 100, 5, "d", 1010)}).empty());
  const auto heap = soak_problems({iteration(1, 100, 5), iteration(2, 100, 5), iteration(3, 100, 5, "d", 1075)});
  ASSERT_EQ(heap.size(), 1u);
  EXPECT_EQ(heap[0], "iteration 3: heap in use 1100800 bytes exceeds iteration 2's allowance of 1099776");
  EXPECT_EQ(soak_problems({iteration(1, 100, 5), iteration(2, 100, 6)}).size(), 1u);
  EXPECT_TRUE(soak_problems({iteration(1, 100, 6), iteration(2, 100, 5)}).empty());
  const auto p = soak_problems({iteration(1, 100, 5), iteration(2, 100, 5, "e")});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].find("iteration 2: results digest e differs"), std::string::npos) << p[0];
  EXPECT_FALSE(soak_problems({}).empty());
}

// Loading the suites costs more than the items; under the sanitizers agentic (the largest) is left out.
int64_t items_per_suite() { return eval::testing::sanitizer_build() ? 4 : 12; }
int64_t suites() { return eval::testing::sanitizer_build() ? 2 : 3; }

std::vector<std::string> run_args(const fs::path& model) {
  return {"--model", "tiny=" + model.string(), "--suites",
          eval::testing::sanitizer_build() ? "health,reasoning" : "agentic,health,reasoning", "--limit",
          std::to_string(items_per_suite()), "--threads", "1"};
}

TEST(SoakProgram, ThreeIterationsGiveTheDigestOfASeparateTenxRunAndStayFlat) {
  TempDir dir;
  const fs::path model = eval::testing::write_model(dir, "tiny", 3, 2048);
  std::vector<std::string> soak = {TENX_SOAK_BINARY, "--iterations", "3", "--json", "--report", (dir / "soak.json").string()};
  for (const auto& a : run_args(model)) soak.push_back(a);
  // ASan holds freed memory in its quarantine (up to 256 MiB), so RSS is not flat there.
  if (eval::testing::sanitizer_build()) soak.insert(soak.end(), {"--rss-slack-mib", "1024"});
  const auto r = run_child(soak);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const eval::Json j = eval::Json::parse(r.out);
  EXPECT_EQ(j, eval::Json::parse(eval::testing::read_text(dir / "soak.json")));
  ASSERT_EQ(j["iterations"].size(), 3u);
  EXPECT_TRUE(j["pass"].get<bool>());
  EXPECT_TRUE(j["problems"].empty());
  for (const auto& it : j["iterations"]) {
    EXPECT_EQ(it["digest"], j["iterations"][0]["digest"]);
    EXPECT_EQ(it["records"].get<int64_t>(), suites() * items_per_suite());
    EXPECT_GT(it["current_rss_bytes"].get<uint64_t>(), 0u);
  }

  // The same items through the CLI, in another process: the same digest.
  std::vector<std::string> cli = {TENX_BINARY, "run", "--quiet", "--out", (dir / "cli").string()};
  for (const auto& a : run_args(model)) cli.push_back(a);
  const auto c = run_child(cli);
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(results_digest(eval::read_run(dir / "cli")), j["iterations"][0]["digest"].get<std::string>());
}

TEST(SoakProgram, CompareSaysSameForACopyAndExitsOneOnOneChangedLoglik) {
  TempDir dir;
  const fs::path model = eval::testing::write_model(dir, "tiny", 4, 512);
  std::vector<std::string> cli = {TENX_BINARY, "run", "--quiet", "--out", (dir / "a").string(), "--model",
                                  "tiny=" + model.string(), "--suites", "health", "--limit", "6"};
  ASSERT_EQ(run_child(cli).exit_code, 0);
  fs::create_directories(dir / "b");
  fs::copy_file(dir / "a" / "run.json", dir / "b" / "run.json");
  eval::RunResult run = eval::read_run(dir / "a");
  {
    std::ofstream items(dir / "b" / "items.jsonl");
    for (const auto& rec : run.records) items << eval::to_json(rec).dump() << "\n";
  }
  auto same = run_child({TENX_SOAK_BINARY, "--compare", (dir / "a").string(), (dir / "b").string()});
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  EXPECT_NE(same.out.find("SAME"), std::string::npos) << same.out;

  size_t k = 0;
  while (k < run.records.size() && run.records[k].loglik.empty()) ++k;
  ASSERT_LT(k, run.records.size()) << "no choice item among the health items";
  run.records[k].loglik[0] = std::nextafter(run.records[k].loglik[0], 0.0);
  run.records[(k + 1) % run.records.size()].seconds += 1;  // not compared
  {
    std::ofstream items(dir / "b" / "items.jsonl");
    for (const auto& rec : run.records) items << eval::to_json(rec).dump() << "\n";
  }
  auto diff = run_child({TENX_SOAK_BINARY, "--compare", (dir / "a").string(), (dir / "b").string()});
  EXPECT_EQ(diff.exit_code, 1) << diff.out << diff.err;
  EXPECT_NE(diff.out.find("record " + std::to_string(k) + " (tiny/health/" + run.records[k].item + "): differs in loglik"),
            std::string::npos)
      << diff.out;
  EXPECT_NE(diff.out.find("1 of 6 records differ"), std::string::npos) << diff.out;
}

}  // namespace
}  // namespace tenx::soak
