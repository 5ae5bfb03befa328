// `tenx compare`, the CI gate, on constructed reports: a clear regression fails (exit 1), a
// noise-level change passes (0), a significant change inside the threshold passes, bad input is
// exit 2 with the file named. Expected p-values are computed here from their definitions.
#include "tenx/eval/report/compare.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "cli/run_cli.hpp"
#include "report/report_fixture.hpp"
#include "tenx/util/error.hpp"

namespace tenx::eval {
namespace {

using test::fixture_report;
using test::make_group;

// OLD: model m on suite s, 400 items, the first 320 right (80%), 1 GFLOP each.
ReportView old_view() {
  return report_view_from_json(fixture_report({{"m"}}, {make_group("m", "s", 400, 320, 1e9)}), "old.json");
}

TEST(Compare, ClearAccuracyRegressionFails) {
  // NEW gets 40 of the old right items wrong: b = 0, c = 40, a 10-point drop.
  auto g = make_group("m", "s", 400, 280, 1e9);
  const ReportView n = report_view_from_json(fixture_report({{"m"}}, {g}), "new.json");
  const Comparison c = compare_reports(old_view(), n);
  ASSERT_EQ(c.suites.size(), 1u);
  const SuiteChange& s = c.suites[0];
  EXPECT_EQ(s.items, 400u);
  EXPECT_EQ(s.table.b, 0u);
  EXPECT_EQ(s.table.c, 40u);
  EXPECT_DOUBLE_EQ(s.old_accuracy, 0.80);
  EXPECT_DOUBLE_EQ(s.new_accuracy, 0.70);
  // Exact McNemar: 2 * P(X <= 0), X ~ Bin(40, 1/2) = 2 * 2^-40.
  EXPECT_NEAR(s.mcnemar_p / (2.0 * std::pow(0.5, 40)), 1.0, 1e-9);
  EXPECT_TRUE(s.accuracy_regression);
  EXPECT_FALSE(s.latency_regression);
  EXPECT_FALSE(s.flops_regression);
  EXPECT_EQ(c.exit_code(), 1);
  EXPECT_NE(comparison_markdown(c).find("Regression: 1 check failed"), std::string::npos);

  // The same drop is allowed by a 15-point threshold: significant but not beyond it.
  CompareOptions loose;
  loose.max_accuracy_drop = 0.15;
  EXPECT_EQ(compare_reports(old_view(), n, loose).exit_code(), 0);
}

TEST(Compare, NoiseLevelChangePasses) {
  // 3 old-right items now wrong, 2 old-wrong items now right: b = 2, c = 3.
  auto g = make_group("m", "s", 400, 320, 1e9);
  g.correct[0] = g.correct[1] = g.correct[2] = 0;
  g.correct[350] = g.correct[351] = 1;
  const ReportView n = report_view_from_json(fixture_report({{"m"}}, {g}), "new.json");
  const Comparison c = compare_reports(old_view(), n);
  const SuiteChange& s = c.suites[0];
  EXPECT_EQ(s.table.b, 2u);
  EXPECT_EQ(s.table.c, 3u);
  // 2 * P(X <= 2), X ~ Bin(5, 1/2) = 2 * (1 + 5 + 10) / 32 = 1 (capped).
  EXPECT_DOUBLE_EQ(s.mcnemar_p, 1.0);
  EXPECT_FALSE(s.accuracy_regression);
  EXPECT_EQ(c.exit_code(), 0);
  EXPECT_NE(comparison_markdown(c).find("No significant regression"), std::string::npos);
}

TEST(Compare, SignificantDropInsideThresholdPasses) {
  // 20,000 items, 100 discordant all against NEW: a 0.5-point drop, p = 2^-99, below 1 point.
  const ReportView o = report_view_from_json(fixture_report({{"m"}}, {make_group("m", "s", 20000, 16000, 1e9)}), "o");
  const ReportView n = report_view_from_json(fixture_report({{"m"}}, {make_group("m", "s", 20000, 15900, 1e9)}), "n");
  const Comparison c = compare_reports(o, n);
  EXPECT_LT(c.suites[0].mcnemar_p, 1e-20);
  EXPECT_FALSE(c.suites[0].accuracy_regression);
  EXPECT_EQ(c.exit_code(), 0);
}

TEST(Compare, LatencyRegressionNeedsSignificanceAndSize) {
  // NEW 50% slower on every item: median +50%, Mann-Whitney p tiny -> regression.
  auto slow = make_group("m", "s", 400, 320, 1e9, 0.015, 0.00015);
  const Comparison c = compare_reports(old_view(), report_view_from_json(fixture_report({{"m"}}, {slow}), "n"));
  const SuiteChange& s = c.suites[0];
  EXPECT_NEAR(s.latency_change, 0.5, 1e-9);
  EXPECT_LT(s.mann_whitney_p, 1e-10);
  EXPECT_TRUE(s.latency_regression);
  EXPECT_FALSE(s.accuracy_regression);
  EXPECT_EQ(c.exit_code(), 1);
  // 5% slower: significant (every item slower) but inside the 10% threshold.
  auto bit = make_group("m", "s", 400, 320, 1e9, 0.0105, 0.000105);
  const Comparison c2 = compare_reports(old_view(), report_view_from_json(fixture_report({{"m"}}, {bit}), "n"));
  EXPECT_FALSE(c2.suites[0].latency_regression);
  EXPECT_EQ(c2.exit_code(), 0);
}

TEST(Compare, FlopsAndMemoryAreExact) {
  auto more = make_group("m", "s", 400, 320, 1.1e9);
  const Comparison c = compare_reports(old_view(), report_view_from_json(fixture_report({{"m"}}, {more}), "n"));
  EXPECT_NEAR(c.suites[0].flops_change, 0.1, 1e-12);
  EXPECT_TRUE(c.suites[0].flops_regression);
  CompareOptions o;
  o.max_flops_increase = 0.2;
  EXPECT_EQ(compare_reports(old_view(), report_view_from_json(fixture_report({{"m"}}, {more}), "n"), o).exit_code(), 0);

  test::FixtureModel big{"m"};
  big.weight_bytes *= 2;
  const Comparison cm =
      compare_reports(old_view(), report_view_from_json(fixture_report({big}, {make_group("m", "s", 400, 320, 1e9)}), "n"));
  ASSERT_EQ(cm.memory.size(), 1u);
  EXPECT_EQ(cm.memory[0].old_bytes, 4150000u);
  EXPECT_EQ(cm.memory[0].new_bytes, 8150000u);
  EXPECT_TRUE(cm.memory[0].regression);
  EXPECT_EQ(cm.exit_code(), 1);
}

TEST(Compare, MismatchedItemsThrowNamingTheFile) {
  auto fewer = make_group("m", "s", 399, 320, 1e9);
  const ReportView n = report_view_from_json(fixture_report({{"m"}}, {fewer}), "new.json");
  try {
    compare_reports(old_view(), n);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.subject(), "new.json");
  }
  const ReportView other = report_view_from_json(fixture_report({{"m"}}, {make_group("m", "t", 400, 320, 1e9)}), "new.json");
  EXPECT_THROW(compare_reports(old_view(), other), Error);
}

// --- the CLI: exit codes and messages ----------------------------------------------------------

TEST(CompareCli, ExitCodesAndMarkdown) {
  test::TempDir dir;
  test::write_json(dir / "old.json", fixture_report({{"m"}}, {make_group("m", "s", 400, 320, 1e9)}));
  test::write_json(dir / "bad.json", fixture_report({{"m"}}, {make_group("m", "s", 400, 280, 1e9)}));
  auto noise = make_group("m", "s", 400, 320, 1e9);
  noise.correct[0] = 0;
  noise.correct[399] = 1;
  test::write_json(dir / "noise.json", fixture_report({{"m"}}, {noise}));

  const auto reg = test::run_tenx("compare " + (dir / "old.json") + " " + (dir / "bad.json") + " --markdown " +
                                  (dir / "pr.md"));
  EXPECT_EQ(reg.code, 1) << reg.err;
  EXPECT_NE(reg.out.find("| m | s | 400 | 80.0% → 70.0% | -10.0 ❌ |"), std::string::npos) << reg.out;
  EXPECT_EQ(test::slurp(dir / "pr.md"), reg.out);

  const auto ok = test::run_tenx("compare " + (dir / "old.json") + " " + (dir / "noise.json"));
  EXPECT_EQ(ok.code, 0) << ok.err << ok.out;

  const auto loose = test::run_tenx("compare " + (dir / "old.json") + " " + (dir / "bad.json") +
                                    " --max-accuracy-drop 12 --json");
  EXPECT_EQ(loose.code, 0) << loose.err;
  EXPECT_EQ(Json::parse(loose.out)["regressions"], 0);
}

TEST(CompareCli, VerdictsOfAFormat1AndAFormat2ReportSideBySide) {
  // Old: a format-1 report whose verdict has no assay sensitivity; new: format 2, the same suite
  // now UNINFORMATIVE. Shown, never a failing check (the gate compares measurements).
  test::TempDir dir;
  const std::vector<test::FixtureGroup> groups = {make_group("big", "s", 400, 320, 1e9),
                                            make_group("m", "s", 400, 320, 1e8)};
  Json old_verdict = {{"verdict", "SUPPORTED"},
                      {"comparisons", {{{"candidate", "m"}, {"verdict", "SUPPORTED"},
                                        {"suites", {{{"suite", "s"}, {"verdict", "SUPPORTED"}}}}}}}};
  Json new_verdict = old_verdict;
  new_verdict["verdict"] = "UNINFORMATIVE";
  new_verdict["comparisons"][0]["verdict"] = "UNINFORMATIVE";
  new_verdict["comparisons"][0]["suites"][0]["verdict"] = "UNINFORMATIVE";
  new_verdict["comparisons"][0]["suites"][0]["informative"] = false;
  Json newer = fixture_report({{"big"}, {"m"}}, groups, new_verdict);
  newer["format"] = 2;
  test::write_json(dir / "old.json", fixture_report({{"big"}, {"m"}}, groups, old_verdict));
  test::write_json(dir / "new.json", newer);
  const auto r = test::run_tenx("compare " + (dir / "old.json") + " " + (dir / "new.json"));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("report formats 1 → 2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| m | s | SUPPORTED → UNINFORMATIVE | – → no |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| m | (overall) | SUPPORTED → UNINFORMATIVE |"), std::string::npos) << r.out;
  const auto j = test::run_tenx("compare " + (dir / "old.json") + " " + (dir / "new.json") + " --json");
  const Json parsed = Json::parse(j.out);
  EXPECT_EQ(parsed["new_format"], 2);
  EXPECT_EQ(parsed["verdicts"][1]["new_informative"], false);
  EXPECT_TRUE(parsed["verdicts"][1]["old_informative"].is_null());
}

TEST(CompareCli, BadInputExitsTwoNamingTheFile) {
  test::TempDir dir;
  test::write_json(dir / "old.json", fixture_report({{"m"}}, {make_group("m", "s", 400, 320, 1e9)}));
  {
    std::ofstream out(dir / "broken.json");
    out << "{\"format\": 1, \"metrics\": [";
  }
  const auto broken = test::run_tenx("compare " + (dir / "old.json") + " " + (dir / "broken.json"));
  EXPECT_EQ(broken.code, 2);
  EXPECT_NE(broken.err.find("broken.json"), std::string::npos) << broken.err;
  EXPECT_NE(broken.err.find("not valid JSON"), std::string::npos) << broken.err;

  Json v3 = fixture_report({{"m"}}, {make_group("m", "s", 400, 320, 1e9)});
  v3["format"] = 3;  // formats 1 and 2 are read
  test::write_json(dir / "v3.json", v3);
  const auto version = test::run_tenx("compare " + (dir / "v3.json") + " " + (dir / "old.json"));
  EXPECT_EQ(version.code, 2);
  EXPECT_NE(version.err.find("v3.json: format"), std::string::npos) << version.err;

  test::write_json(dir / "fewer.json", fixture_report({{"m"}}, {make_group("m", "s", 300, 240, 1e9)}));
  const auto fewer = test::run_tenx("compare " + (dir / "old.json") + " " + (dir / "fewer.json"));
  EXPECT_EQ(fewer.code, 2);
  EXPECT_NE(fewer.err.find("fewer.json"), std::string::npos) << fewer.err;
  EXPECT_NE(fewer.err.find("not on the same items"), std::string::npos) << fewer.err;

  const auto missing = test::run_tenx("compare " + (dir / "old.json") + " " + (dir / "nope.json"));
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("nope.json"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace tenx::eval
