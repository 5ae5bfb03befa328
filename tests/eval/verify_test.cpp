// The claim on constructed runs (clearly non-inferior, clearly inferior, too few items, ratio
// short, N/A suites) and `tenx verify`'s exit codes on a finished run folder.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "eval/run_fixture.hpp"
#include "tenx/eval/report/claim_report.hpp"
#include "tenx/eval/stats/claim.hpp"
#include "tenx/util/error.hpp"

namespace tenx::eval {
namespace {

using testing::paired_run;

VerifySpec verify_spec() {
  VerifySpec s;
  s.baseline = "big";
  s.candidates = {"small"};
  if (std::getenv("TENX_SANITIZER_BUILD")) s.bootstrap_resamples = 2000;  // keep the ASan run short
  return s;
}

// 1200 items, both right on 90% and on the same items but for 20 discordant items each way.
RunResult non_inferior_run(uint64_t cand_flops = 1000000) {
  auto base = [](int i) { return i % 10 != 0; };
  auto cand = [&](int i) {
    if (i % 60 == 0) return true;   // baseline wrong (i % 10 == 0): candidate-only right
    if (i % 60 == 3) return false;  // baseline right: baseline-only right
    return base(i);
  };
  return paired_run(1200, base, cand, 20000000, cand_flops);
}

TEST(Verify, ClearlyNonInferiorIsSupported) {
  const ClaimVerdict v = verify_claim(non_inferior_run(), verify_spec());
  ASSERT_EQ(v.candidates.size(), 1u);
  const CandidateVerdict& c = v.candidates[0];
  ASSERT_EQ(c.suites.size(), 1u);
  const SuiteComparison& s = c.suites[0];
  EXPECT_EQ(s.items_paired, 1200u);
  EXPECT_EQ(s.table.b, 20u);
  EXPECT_EQ(s.table.c, 20u);
  EXPECT_EQ(s.table.a, 1060u);
  EXPECT_EQ(s.table.d, 100u);
  EXPECT_DOUBLE_EQ(s.mcnemar_p, 1.0);
  EXPECT_DOUBLE_EQ(s.verdict.evidence.difference(), 0.0);
  // bootstrap and Newcombe agree roughly: SE = sqrt(40)/1200 = 0.0053, half-width ~0.0103
  EXPECT_NEAR(s.verdict.evidence.difference_ci.lower, -0.0103, 0.002);
  ASSERT_TRUE(s.newcombe_ci);
  EXPECT_NEAR(s.newcombe_ci->lower, -0.0103, 0.002);
  EXPECT_EQ(s.verdict.verdict, Verdict::supported);
  EXPECT_DOUBLE_EQ(c.compute.flops.ratio, 20.0);
  EXPECT_TRUE(c.compute.flops.holds);
  ASSERT_TRUE(c.compute.latency);
  EXPECT_NEAR(c.compute.latency->value, 10.0, 1e-9);  // 0.2 s vs 0.02 s on every item
  EXPECT_NEAR(c.compute.latency->ci->lower, 10.0, 1e-9);
  EXPECT_NEAR(c.compute.latency->ci->upper, 10.0, 1e-9);
  EXPECT_DOUBLE_EQ(*c.compute.peak_memory,  // weights + KV peak + working buffers
                   (400000000.0 + (1 << 20) + (1 << 16)) / (40000000.0 + (1 << 20) + (1 << 16)));
  EXPECT_DOUBLE_EQ(*c.compute.weight_bytes, 10.0);
  EXPECT_FALSE(c.compute.training_flops);  // unknown in the fixture
  EXPECT_EQ(v.verdict, Verdict::supported);
  EXPECT_EQ(v.exit_code(), 0);
  // the same seed gives the same interval
  const ClaimVerdict again = verify_claim(non_inferior_run(), verify_spec());
  EXPECT_EQ(again.candidates[0].suites[0].verdict.evidence.difference_ci.lower,
            s.verdict.evidence.difference_ci.lower);
}

TEST(Verify, ClearlyInferiorIsNotSupported) {
  const RunResult run = paired_run(
      400, [](int i) { return i % 10 != 0; }, [](int i) { return i % 2 == 0; }, 20000000, 1000000);
  const ClaimVerdict v = verify_claim(run, verify_spec());
  EXPECT_EQ(v.candidates[0].suites[0].verdict.verdict, Verdict::not_supported);
  EXPECT_NE(v.candidates[0].suites[0].verdict.explanation.find("reasoning"), std::string::npos);
  EXPECT_EQ(v.exit_code(), 3);
}

TEST(Verify, TooFewItemsIsInconclusiveWithItemsNeeded) {
  // Ten choices (chance 0.1), so 8 of 10 right shows the capability even on 10 items.
  const RunResult run = testing::with_choices(paired_run(
      10, [](int i) { return i != 0 && i != 5; }, [](int i) { return i != 0 && i != 7; }, 20000000, 1000000), 10);
  const ClaimVerdict v = verify_claim(run, verify_spec());
  const SuiteComparison& s = v.candidates[0].suites[0];
  EXPECT_EQ(s.verdict.verdict, Verdict::inconclusive);
  EXPECT_FALSE(s.stratified);  // tasks of 5 items: too small to stratify
  ASSERT_TRUE(s.verdict.items_needed);
  EXPECT_GT(*s.verdict.items_needed, 10u);
  EXPECT_EQ(v.exit_code(), 4);
}

TEST(Verify, AgreementOnFewItemsDoesNotCollapseTheInterval) {
  // Both models answer the same 20 items alike: every bootstrap resample has difference 0, but
  // 20 items cannot show the difference is above -0.02; Newcombe's interval keeps it honest.
  const RunResult run = testing::with_choices(paired_run(
      20, [](int i) { return i % 2 == 0; }, [](int i) { return i % 2 == 0; }, 20000000, 1000000), 10);
  const ClaimVerdict v = verify_claim(run, verify_spec());
  const SuiteComparison& s = v.candidates[0].suites[0];
  EXPECT_EQ(s.bootstrap_ci.lower, 0.0);
  EXPECT_EQ(s.bootstrap_ci.upper, 0.0);
  EXPECT_TRUE(s.stratified);  // two tasks of 10 items each
  ASSERT_TRUE(s.newcombe_ci);
  EXPECT_LT(s.newcombe_ci->lower, -0.05);  // well below -margin (it is about -0.09)
  EXPECT_DOUBLE_EQ(s.verdict.evidence.difference_ci.lower, s.newcombe_ci->lower);
  EXPECT_EQ(s.verdict.verdict, Verdict::inconclusive);
  EXPECT_EQ(v.exit_code(), 4);
}

TEST(Verify, RatioShortOfTheClaimIsNotSupported) {
  const ClaimVerdict v = verify_claim(non_inferior_run(4000000), verify_spec());  // 5x < 10x
  EXPECT_DOUBLE_EQ(v.candidates[0].compute.flops.ratio, 5.0);
  EXPECT_EQ(v.candidates[0].suites[0].verdict.verdict, Verdict::supported);
  EXPECT_EQ(v.verdict, Verdict::not_supported);
  EXPECT_NE(v.candidates[0].overall.explanation.find("compute ratio"), std::string::npos);
}

TEST(Verify, McNemarAndNewcombeOnAPublishedTable) {
  // b = 9, c = 2: exact McNemar p = 2 * 67 / 2048 = 0.0654296875
  const RunResult run = paired_run(
      100, [](int i) { return i < 80; }, [](int i) { return (i >= 2 && i < 80) || (i >= 80 && i < 89); },
      20000000, 1000000);
  const ClaimVerdict v = verify_claim(run, verify_spec());
  const SuiteComparison& s = v.candidates[0].suites[0];
  EXPECT_EQ(s.table.b, 9u);
  EXPECT_EQ(s.table.c, 2u);
  EXPECT_DOUBLE_EQ(s.mcnemar_p, 0.0654296875);
  const Interval n = newcombe_paired_interval(s.table);
  EXPECT_DOUBLE_EQ(s.newcombe_ci->lower, n.lower);
  EXPECT_DOUBLE_EQ(s.newcombe_ci->upper, n.upper);
  EXPECT_NEAR(s.verdict.evidence.difference(), 0.07, 1e-12);
}

TEST(Verify, SuiteNotApplicableToBothBlocksSupported) {
  RunResult run = non_inferior_run();
  run.manifest.suites.push_back(testing::suite_ref("multimodal", 30));
  for (const char* model : {"big", "small"})
    for (int i = 0; i < 30; ++i) {
      ItemRecord r = testing::choice_record(model, "multimodal", i, "digits", true, 5000, 0.1);
      r.applicable = std::string(model) == "big";  // the candidate has no projector
      run.records.push_back(r);
    }
  const ClaimVerdict v = verify_claim(run, verify_spec());
  ASSERT_EQ(v.candidates[0].suites.size(), 2u);
  const SuiteComparison& mm = v.candidates[0].suites[1];
  EXPECT_FALSE(mm.applicable);
  EXPECT_EQ(mm.items_excluded, 30u);
  EXPECT_EQ(v.candidates[0].overall.suites.size(), 1u);
  // A suite of the claim that the pair cannot take says nothing: never SUPPORTED (#16); leave it
  // out of the claim with --suites.
  EXPECT_EQ(v.verdict, Verdict::uninformative);
  EXPECT_EQ(verify_claim(non_inferior_run(), verify_spec()).verdict, Verdict::supported);
  EXPECT_DOUBLE_EQ(v.candidates[0].compute.flops.ratio, 20.0);  // over paired items only
  const Json j = to_json(v);
  EXPECT_EQ(j["comparisons"][0]["suites"][1]["verdict"], "NOT_APPLICABLE");
}

TEST(Verify, BadSpecThrows) {
  VerifySpec s = verify_spec();
  s.candidates = {"ghost"};
  EXPECT_THROW(verify_claim(non_inferior_run(), s), tenx::Error);
  s.candidates = {"big"};
  EXPECT_THROW(verify_claim(non_inferior_run(), s), tenx::Error);
}

// --- the CLI ------------------------------------------------------------------------------------

int run_cli(const std::string& args, std::string* out = nullptr) {
  const auto log = std::filesystem::temp_directory_path() / ("tenx-verify-cli-" + std::to_string(::getpid()) + ".txt");
  const std::string cmd = std::string(TENX_BINARY) + " " + args + " >" + log.string() + " 2>&1";
  const int status = std::system(cmd.c_str());
  if (out) {
    std::ifstream in(log);
    std::stringstream ss;
    ss << in.rdbuf();
    *out = ss.str();
  }
  std::filesystem::remove(log);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(VerifyCli, ExitCodesOnFinishedRuns) {
  const auto dir = testing::fresh_dir("verify-cli");
  struct Case {
    const char* name;
    RunResult run;
    int code;
  } cases[] = {
      {"supported", non_inferior_run(), 0},
      {"inferior", paired_run(400, [](int i) { return i % 10 != 0; }, [](int i) { return i % 2 == 0; },
                              20000000, 1000000), 3},
      {"few", testing::with_choices(paired_run(10, [](int i) { return i != 0 && i != 5; },
                                               [](int i) { return i != 0 && i != 7; }, 20000000, 1000000), 10), 4},
      {"at-chance", paired_run(400, [](int i) { return i % 4 < 2; }, [](int i) { return i % 4 < 2; }, 20000000,
                               1000000), 5},
  };
  for (Case& c : cases) {
    const auto run_dir = dir / c.name;
    // verify reads the suite's trivial references from its suite.json (the fixture's tasks are not
    // in it, so chance decides).
    c.run.manifest.suites[0].path = std::string(TENX_SOURCE_DIR) + "/data/suites/reasoning";
    testing::write_run_folder(c.run, run_dir);
    std::string out;
    const int code = run_cli("verify --baseline big --candidate small --quiet --run " + run_dir.string() +
                                 " --out " + (dir / (std::string(c.name) + "-report")).string(), &out);
    EXPECT_EQ(code, c.code) << c.name << ":\n" << out;
    EXPECT_NE(out.find("McNemar p"), std::string::npos) << out;
    EXPECT_NE(out.find("FLOPs per item"), std::string::npos) << out;
    EXPECT_TRUE(std::filesystem::exists(dir / (std::string(c.name) + "-report") / "report.json"));
  }
  std::string out;
  EXPECT_EQ(run_cli("verify --baseline big --candidate ghost --quiet --run " + (dir / "supported").string() +
                        " --out " + (dir / "bad").string(), &out), 2) << out;
  EXPECT_NE(out.find("tenx: error:"), std::string::npos) << out;
  EXPECT_EQ(run_cli("verify --baseline big --candidate small --margin -1 --run " + (dir / "supported").string()), 2);
  EXPECT_EQ(run_cli("verify --baseline big --candidate small --run " + (dir / "nowhere").string()), 2);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tenx::eval
