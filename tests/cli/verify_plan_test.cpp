// #16 end to end: two untrained models (`tenx model init`) through `tenx verify --suites all`
// are UNINFORMATIVE on every suite they can take, never SUPPORTED; the analysis plan
// (`tenx plan init/check`, `verify --plan`) is recorded by its SHA-256 and enforced.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli/run_cli.hpp"
#include "eval/run_fixture.hpp"
#include "tenx/util/sha256.hpp"

namespace tenx::test {
namespace {

using Json = nlohmann::ordered_json;

TEST(VerifyUntrained, EverySuiteIsUninformativeNeverSupported) {
  TempDir dir;
  // The issue's pair: a 256-dim and a 64-dim llama with random weights and no projector.
  ASSERT_EQ(run_tenx("model init --arch llama --dim 256 --layers 2 --heads 4 --ffn 512 --vocab 512 --seed 1 " +
                     (dir / "big.gguf")).code, 0);
  ASSERT_EQ(run_tenx("model init --arch llama --dim 64 --layers 2 --heads 4 --ffn 128 --vocab 512 --seed 2 " +
                     (dir / "small.gguf")).code, 0);
  // --min-ratio 1: the compute part holds, so only the suites decide (as in the issue).
  const CliResult r = run_tenx("verify --baseline big=" + (dir / "big.gguf") + " --candidate small=" +
                               (dir / "small.gguf") + " --suites all --limit 40 --seed 1 --min-ratio 1 --threads 2 "
                               "--quiet --out " + (dir / "run"));
  EXPECT_EQ(r.code, 5) << r.out << r.err;
  EXPECT_NE(r.out.find("verdict: UNINFORMATIVE (exit 5)"), std::string::npos) << r.out;
  const Json report = Json::parse(slurp(dir / "run/report.json"));
  EXPECT_EQ(report["format"], 2);
  EXPECT_EQ(report["verdict"]["verdict"], "UNINFORMATIVE");
  int uninformative = 0;
  for (const Json& s : report["verdict"]["comparisons"][0]["suites"]) {
    if (s["suite"] == "multimodal") {
      // No projector: the image items are N/A, so the suite is not applicable (not compared on
      // its blind controls).
      EXPECT_EQ(s["verdict"], "NOT_APPLICABLE") << s.dump();
      EXPECT_GT(s["control_items"].get<int>(), 0);
      continue;
    }
    EXPECT_EQ(s["verdict"], "UNINFORMATIVE") << s["explanation"];
    EXPECT_FALSE(s["informative"].get<bool>());
    EXPECT_NE(s["explanation"].get<std::string>().find("does not beat the trivial references"), std::string::npos);
    ++uninformative;
  }
  EXPECT_EQ(uninformative, 3);
}

// A finished run folder whose suite.json is the shipped reasoning suite's.
std::string fixture_run(const TempDir& dir) {
  eval::RunResult run = eval::testing::paired_run(
      1200, [](int i) { return i % 10 != 0; }, [](int i) { return i % 10 != 0; }, 20000000, 1000000);
  run.manifest.suites[0].path = std::string(TENX_SOURCE_DIR) + "/data/suites/reasoning";
  eval::testing::write_run_folder(run, dir.path / "run");
  return dir / "run";
}

TEST(VerifySuites, ANamedSuiteListRestrictsAFinishedRunsClaim) {
  TempDir dir;
  // reasoning: the baseline at chance (uninformative); health: informative and non-inferior.
  eval::RunResult run = eval::testing::paired_run(
      400, [](int i) { return i % 4 < 2; }, [](int i) { return i % 4 < 2; }, 20000000, 1000000);
  const eval::RunResult health = eval::testing::paired_run(
      1200, [](int i) { return i % 10 != 0; }, [](int i) { return i % 10 != 0; }, 20000000, 1000000, "health");
  run.manifest.suites.push_back(health.manifest.suites[0]);
  run.records.insert(run.records.end(), health.records.begin(), health.records.end());
  for (auto& s : run.manifest.suites) s.path = std::string(TENX_SOURCE_DIR) + "/data/suites/" + s.name;
  eval::testing::write_run_folder(run, dir.path / "run");
  EXPECT_EQ(run_tenx("verify --baseline big --candidate small --quiet --run " + (dir / "run") + " --out " +
                     (dir / "all")).code, 5);
  const CliResult h = run_tenx("verify --baseline big --candidate small --quiet --suites health --run " +
                               (dir / "run") + " --out " + (dir / "health"));
  EXPECT_EQ(h.code, 0) << h.out << h.err;
  const Json report = Json::parse(slurp(dir / "health/report.json"));
  EXPECT_EQ(report["suites"].size(), 1u);
  EXPECT_EQ(report["verdict"]["left_out"], Json::parse(R"(["agentic", "multimodal", "reasoning"])"));
  const CliResult bad = run_tenx("verify --baseline big --candidate small --quiet --suites nosuch --run " +
                                 (dir / "run") + " --out " + (dir / "bad"));
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("has no suite 'nosuch'"), std::string::npos) << bad.err;
}

TEST(VerifyPlan, InitCheckAndVerifyRecordTheSha256) {
  TempDir dir;
  const std::string run = fixture_run(dir);
  const CliResult init = run_tenx("plan init --baseline big --candidate small --suites reasoning --margin 0.03 "
                                  "--alpha 0.025 --claim 'small is as good as big' --out " + (dir / "plan.json"));
  ASSERT_EQ(init.code, 0) << init.err;
  const std::string sha = sha256_hex(slurp(dir / "plan.json"));
  EXPECT_NE(init.out.find("sha256: " + sha), std::string::npos) << init.out;
  const Json plan = Json::parse(slurp(dir / "plan.json"));
  EXPECT_EQ(plan["kind"], "tenx-plan");
  EXPECT_EQ(plan["margin"]["absolute"], 0.03);
  EXPECT_EQ(run_tenx("plan init --baseline big --candidate small --out " + (dir / "plan.json")).code, 2);  // exists

  const CliResult check = run_tenx("plan check " + (dir / "plan.json"));
  EXPECT_EQ(check.code, 0) << check.err;
  EXPECT_NE(check.out.find(sha), std::string::npos);

  // The plan supplies the models and the margin; its SHA-256 goes into report.json.
  const CliResult v = run_tenx("verify --plan " + (dir / "plan.json") + " --run " + run + " --quiet --out " +
                               (dir / "report"));
  EXPECT_EQ(v.code, 0) << v.out << v.err;
  const Json report = Json::parse(slurp(dir / "report/report.json"));
  EXPECT_EQ(report["verdict"]["plan"]["sha256"], sha);
  EXPECT_EQ(report["verdict"]["margin"], 0.03);
  EXPECT_NE(v.out.find("pre-registered plan"), std::string::npos) << v.out;
  // The claim names reasoning only: the other shipped suites are reported as left out.
  EXPECT_EQ(report["verdict"]["left_out"], Json::parse(R"(["agentic", "health", "multimodal"])"));
  EXPECT_NE(v.out.find("left out of the claim (not in --suites): agentic, health, multimodal"), std::string::npos);

  // The same option given again is fine; a different one is refused, naming the option.
  EXPECT_EQ(run_tenx("verify --plan " + (dir / "plan.json") + " --margin 0.03 --run " + run + " --quiet --out " +
                     (dir / "r2")).code, 0);
  const CliResult differ = run_tenx("verify --plan " + (dir / "plan.json") + " --margin 0.05 --run " + run +
                                    " --quiet --out " + (dir / "r3"));
  EXPECT_EQ(differ.code, 2);
  EXPECT_NE(differ.err.find("plan.json: --margin is 0.05 on the command line but the plan says 0.03"),
            std::string::npos) << differ.err;
  const CliResult other = run_tenx("verify --plan " + (dir / "plan.json") + " --candidate tiny --run " + run +
                                   " --quiet --out " + (dir / "r4"));
  EXPECT_EQ(other.code, 2);
  EXPECT_NE(other.err.find("--candidate is 'tiny'"), std::string::npos) << other.err;
  const CliResult rel = run_tenx("verify --plan " + (dir / "plan.json") + " --margin-relative 0.5 --run " + run +
                                 " --quiet --out " + (dir / "r5"));
  EXPECT_EQ(rel.code, 2);
  EXPECT_NE(rel.err.find("--margin-relative"), std::string::npos) << rel.err;
}

TEST(VerifyPlan, BadPlansNameTheFileAndTheField) {
  TempDir dir;
  const std::string run = fixture_run(dir);
  struct Case {
    const char* name;
    const char* text;
    const char* message;
  } cases[] = {
      {"broken.json", "{\"format\": 1,", "broken.json: is not valid JSON"},
      {"kind.json", R"({"format": 1, "kind": "tenx-report", "baseline": "big", "candidates": ["small"]})",
       "kind.json: kind: must be \"tenx-plan\""},
      {"format.json", R"({"format": 9, "kind": "tenx-plan", "baseline": "big", "candidates": ["small"]})",
       "format.json: format: is 9"},
      {"typo.json",
       R"({"format": 1, "kind": "tenx-plan", "baseline": "big", "candidates": ["small"], "margin": {"absolut": 0.02}})",
       "typo.json: margin.absolut: unknown field"},
      {"range.json", R"({"format": 1, "kind": "tenx-plan", "baseline": "big", "candidates": ["small"], "alpha": 0.7})",
       "range.json: alpha: out of range: 0.7 not in (0, 0.5)"},
      {"relative.json",
       R"({"format": 1, "kind": "tenx-plan", "baseline": "big", "candidates": ["small"], "margin": {"type": "relative"}})",
       "relative.json: margin.relative: missing"},
      {"nocand.json", R"({"format": 1, "kind": "tenx-plan", "baseline": "big"})", "nocand.json: candidates: missing"},
  };
  for (const Case& c : cases) {
    std::ofstream(dir / c.name) << c.text;
    const CliResult r = run_tenx("verify --plan " + (dir / c.name) + " --run " + run + " --quiet --out " +
                                 (dir / "out"));
    EXPECT_EQ(r.code, 2) << c.name << ": " << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.name << ": " << r.err;
  }
  EXPECT_EQ(run_tenx("verify --plan " + (dir / "missing.json") + " --run " + run).code, 2);
}

}  // namespace
}  // namespace tenx::test
