// scripts/kill_loop.sh, short: a tiny model on two shipped suites, a few SIGKILLs at seeded random
// points each followed by `tenx run --resume`; every finished run must equal the uninterrupted
// reference (the 20-kill run with the compact model is in docs/reliability.md).
#include <gtest/gtest.h>

#include "eval/child_process.hpp"
#include "eval/runner_fixtures.hpp"
#include "tenx/eval/run/runner.hpp"

namespace tenx::soak {
namespace {

namespace fs = std::filesystem;
using eval::testing::TempDir;
using tenx::testing::run_child;

TEST(KillLoop, SeededKillsThenResumeAlwaysEndWithTheReferenceResults) {
  if (!fs::exists("/bin/bash")) GTEST_SKIP() << "no /bin/bash to run scripts/kill_loop.sh";
  TempDir dir;
  const fs::path model = eval::testing::write_model(dir, "tiny", 5, 1024, 48, 3);
  const int kills = eval::testing::sanitizer_build() ? 3 : 5;
  const fs::path script = fs::path(TENX_TEST_DATA_DIR) / ".." / "scripts" / "kill_loop.sh";
  const auto r = run_child({"/bin/bash", script.string(), "--tenx", TENX_BINARY, "--soak", TENX_SOAK_BINARY, "--model",
                            "tiny=" + model.string(), "--suites", "health,reasoning", "--limit", "24", "--kills",
                            std::to_string(kills), "--seed", "11", "--work", (dir / "work").string(), "--keep"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("kills: " + std::to_string(kills) + " SIGKILLs landed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nPASS\n"), std::string::npos) << r.out;
  // Independently of the script's own comparison: the last resumed run equals the reference.
  const eval::Json summary = eval::Json::parse(eval::testing::read_text(dir / "work" / "summary.json"));
  EXPECT_EQ(summary["kills"].get<int>(), kills);
  const int runs = summary["runs"].get<int>();
  EXPECT_EQ(summary["same"].get<int>(), runs);
  const eval::RunResult want = eval::read_run(dir / "work" / "reference");
  const eval::RunResult got = eval::read_run(dir / "work" / ("cycle-" + std::to_string(runs)));
  ASSERT_EQ(got.records.size(), 48u);
  ASSERT_EQ(want.records.size(), got.records.size());
  for (size_t i = 0; i < want.records.size(); ++i) {
    EXPECT_EQ(got.records[i].item, want.records[i].item);
    EXPECT_EQ(got.records[i].loglik, want.records[i].loglik) << i;
    EXPECT_EQ(got.records[i].output, want.records[i].output) << i;
    EXPECT_EQ(got.records[i].flops, want.records[i].flops) << i;
    EXPECT_EQ(got.records[i].correct, want.records[i].correct) << i;
  }
}

}  // namespace
}  // namespace tenx::soak
