// Verdict logic on constructed data: each case states why its outcome is the right one.
#include "tenx/eval/stats/verdict.hpp"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "tenx/util/error.hpp"

namespace tenx::eval {
namespace {

TEST(SuiteVerdict, ClearlyNonInferior) {
  // 1000 items, 30 discordant each way: difference 0, Newcombe CI about +-0.02, inside -0.05.
  const SuiteEvidence e = evidence_from_table("arc", PairedTable{800, 30, 30, 140});
  const SuiteVerdict v = decide_suite(e, 0.05);
  EXPECT_EQ(v.verdict, Verdict::supported);
  EXPECT_GT(e.difference_ci.lower, -0.05);
  EXPECT_NE(v.explanation.find("non-inferior"), std::string::npos) << v.explanation;
  ASSERT_TRUE(v.items_needed.has_value());
  EXPECT_LT(*v.items_needed, 1000u);  // the data were more than enough
}

TEST(SuiteVerdict, ClearlyInferior) {
  // Candidate loses 150 items and wins 10: difference -0.14, CI entirely below -0.05.
  const SuiteEvidence e = evidence_from_table("gsm", PairedTable{600, 10, 150, 240});
  const SuiteVerdict v = decide_suite(e, 0.05);
  EXPECT_EQ(v.verdict, Verdict::not_supported);
  EXPECT_LT(e.difference_ci.upper, -0.05);
  EXPECT_FALSE(v.items_needed.has_value());  // d + delta < 0: no n can show it
  EXPECT_NE(v.explanation.find("worse than the baseline"), std::string::npos);
}

TEST(SuiteVerdict, TooFewItemsIsInconclusiveAndSaysHowManyAreNeeded) {
  // 25 items, p10 = 2/25, p01 = 3/25, d = -0.04, delta = 0.05:
  // n = (1.959964 + 0.841621)^2 (0.08 + 0.12 - 0.04^2) / 0.01^2 = 15572.18 -> 15573.
  const SuiteEvidence e = evidence_from_table("mmlu", PairedTable{15, 2, 3, 5});
  const SuiteVerdict v = decide_suite(e, 0.05);
  EXPECT_EQ(v.verdict, Verdict::inconclusive);
  ASSERT_TRUE(v.items_needed.has_value());
  EXPECT_EQ(*v.items_needed, 15573u);
  EXPECT_GT(*v.items_needed, e.items);
  EXPECT_NE(v.explanation.find("15573 items would be needed (have 25)"), std::string::npos)
      << v.explanation;
}

TEST(SuiteVerdict, NoDiscordanceFallsBackToRuleOfThree) {
  // Both models agree on all 20 items: the observed variance is 0, so the plan uses 3/20
  // discordant (p10 = p01 = 0.075): n = 2.801585^2 * 0.15 / 0.05^2 = 470.93 -> 471.
  const SuiteEvidence e = evidence_from_table("tiny", PairedTable{12, 0, 0, 8});
  EXPECT_DOUBLE_EQ(e.candidate_only, 0.075);
  const SuiteVerdict v = decide_suite(e, 0.05);
  EXPECT_EQ(v.verdict, Verdict::inconclusive);  // Wilson limits at n=20 are wide
  EXPECT_EQ(v.items_needed.value(), 471u);
}

TEST(SuiteVerdict, BootstrapEvidenceAgreesWithNewcombeOnLargeSuites) {
  // The same 2000 items as a table and as score vectors, laid out a, b, c, d in order: the
  // paired bootstrap and Newcombe intervals estimate the same thing and agree to ~0.003.
  const PairedTable t{1500, 120, 160, 220};
  std::vector<double> cand, base;
  auto add = [&](std::uint64_t count, double x, double y) {
    for (std::uint64_t i = 0; i < count; ++i) {
      cand.push_back(x);
      base.push_back(y);
    }
  };
  add(t.a, 1, 1);
  add(t.b, 1, 0);
  add(t.c, 0, 1);
  add(t.d, 0, 0);
  const SuiteEvidence boot = evidence_from_scores("s", cand, base);
  const SuiteEvidence table = evidence_from_table("s", t);
  EXPECT_DOUBLE_EQ(boot.difference(), table.difference());
  EXPECT_DOUBLE_EQ(boot.candidate_only, table.candidate_only);
  EXPECT_DOUBLE_EQ(boot.baseline_only, table.baseline_only);
  EXPECT_NEAR(boot.difference_ci.lower, table.difference_ci.lower, 0.003);
  EXPECT_NEAR(boot.difference_ci.upper, table.difference_ci.upper, 0.003);
  EXPECT_EQ(decide_suite(boot, 0.05).verdict, decide_suite(table, 0.05).verdict);
}

TEST(SuiteVerdict, ExplanationSentence) {
  SuiteEvidence e;
  e.suite = "arc";
  e.items = 1200;
  e.candidate_accuracy = 0.812;
  e.baseline_accuracy = 0.830;
  e.difference_ci = {-0.041, 0.005};
  e.candidate_only = 0.05;
  e.baseline_only = 0.068;
  const SuiteVerdict v = decide_suite(e, 0.05);
  EXPECT_EQ(v.verdict, Verdict::supported);
  EXPECT_EQ(v.explanation,
            "arc: accuracy 0.812 vs 0.830 (difference \u22120.018, 95% CI [\u22120.041, "
            "+0.005]) is within the 0.05 margin: non-inferior");
  const SuiteVerdict tight = decide_suite(e, 0.02);
  EXPECT_EQ(tight.verdict, Verdict::inconclusive);
  EXPECT_NE(tight.explanation.find("crosses the \u22120.02 margin"), std::string::npos);
  EXPECT_THROW(decide_suite(e, 0.0), Error);
  e.difference_ci = {0.1, -0.1};
  EXPECT_THROW(decide_suite(e, 0.05), Error);
}

TEST(Compute, RatioCheck) {
  const ComputeCheck ok = check_compute({1e12, 9e10, 10.0});
  EXPECT_NEAR(ok.ratio, 11.111111111111, 1e-9);
  EXPECT_TRUE(ok.holds);
  const ComputeCheck exact = check_compute({1e12, 1e11, 10.0});
  EXPECT_TRUE(exact.holds);  // >= is enough
  const ComputeCheck short_ = check_compute({1e12, 2e11, 10.0});
  EXPECT_FALSE(short_.holds);
  EXPECT_NE(short_.explanation.find("short of"), std::string::npos);
  EXPECT_THROW(check_compute({1e12, 0.0, 10.0}), Error);
  EXPECT_THROW(check_compute({NAN, 1.0, 10.0}), Error);
  EXPECT_THROW(check_compute({1.0, 1.0, 0.0}), Error);
}

TEST(Overall, IntersectionUnion) {
  const SuiteVerdict good = decide_suite(evidence_from_table("a", {800, 30, 30, 140}), 0.05);
  const SuiteVerdict bad = decide_suite(evidence_from_table("b", {600, 10, 150, 240}), 0.05);
  const SuiteVerdict unsure = decide_suite(evidence_from_table("c", {15, 2, 3, 5}), 0.05);
  const ComputeCheck fast = check_compute({1e12, 5e10, 10.0});
  const ComputeCheck slow = check_compute({1e12, 5e11, 10.0});

  OverallVerdict o = decide_overall({good, good}, fast);
  EXPECT_EQ(o.verdict, Verdict::supported);
  EXPECT_EQ(o.explanation,
            "SUPPORTED: informative and non-inferior on all 2 suites at 20.00x less compute (required 10x)");
  EXPECT_EQ(o.exit_code(), 0);

  o = decide_overall({good, unsure}, fast);
  EXPECT_EQ(o.verdict, Verdict::inconclusive);
  EXPECT_EQ(o.exit_code(), 4);
  EXPECT_NE(o.explanation.find("not shown on c"), std::string::npos) << o.explanation;

  o = decide_overall({good, unsure, bad}, fast);  // one inferior suite decides it
  EXPECT_EQ(o.verdict, Verdict::not_supported);
  EXPECT_EQ(o.exit_code(), 3);
  EXPECT_NE(o.explanation.find("inferior on b"), std::string::npos) << o.explanation;

  o = decide_overall({good, good}, slow);  // accuracy is fine, compute is not
  EXPECT_EQ(o.verdict, Verdict::not_supported);
  EXPECT_NE(o.explanation.find("compute ratio 2.00x is below 10x"), std::string::npos)
      << o.explanation;

  EXPECT_THROW(decide_overall({}, fast), Error);
  EXPECT_EQ(to_string(Verdict::not_supported), "NOT_SUPPORTED");
  EXPECT_EQ(exit_code(Verdict::inconclusive), 4);
}

}  // namespace
}  // namespace tenx::eval
