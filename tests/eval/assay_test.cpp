// Assay sensitivity (#16) on hand-computed values: the test itself, baselines at chance (the
// verdict is UNINFORMATIVE, exit 5), informative baselines, blind controls, relative margins,
// micro and macro accuracy, required tasks and the overall precedence.
#include <gtest/gtest.h>

#include <cmath>

#include "eval/run_fixture.hpp"
#include "tenx/eval/report/claim_report.hpp"
#include "tenx/eval/stats/assay.hpp"
#include "tenx/eval/stats/claim.hpp"
#include "tenx/util/error.hpp"

namespace tenx::eval {
namespace {

using testing::choice_record;
using testing::paired_run;

VerifySpec assay_spec() {
  VerifySpec s;
  s.baseline = "big";
  s.candidates = {"small"};
  if (std::getenv("TENX_SANITIZER_BUILD")) s.bootstrap_resamples = 2000;
  return s;
}

BootstrapOptions boot() {
  BootstrapOptions o;
  o.resamples = std::getenv("TENX_SANITIZER_BUILD") ? 2000 : 10000;
  return o;
}

TEST(AssayTest, ScoreTestAndWilsonBoundAgainstAConstantReference) {
  // 60 of 100 right against chance 0.5: z = 0.1 / sqrt(0.25 / 100) = 2, p = 1 - Phi(2) = 0.0227501;
  // Wilson's 95% interval of 60/100 is [0.50200, 0.69060] (closed form, docs/statistics.md), so the
  // lower bound of the gain is at most 0.0020: significant, but short of the 0.02 margin.
  std::vector<double> b(100, 0.0), r(100, 0.5);
  for (int i = 0; i < 60; ++i) b[i] = 1.0;
  const AssayTest t = assay_test("trivial references", b, r, false, {}, boot(), 0.02);
  EXPECT_DOUBLE_EQ(t.gain(), 0.1);
  EXPECT_NEAR(t.p_value, 0.02275013194817921, 1e-12);
  EXPECT_LE(t.ci.lower, 0.5020025867910618 - 0.5 + 1e-12);
  EXPECT_FALSE(t.passed);
  EXPECT_NE(assay_sentence(t).find("short of the 0.02 margin"), std::string::npos) << assay_sentence(t);
  // 90 of 100: far above, passes.
  for (int i = 60; i < 90; ++i) b[i] = 1.0;
  EXPECT_TRUE(assay_test("trivial references", b, r, false, {}, boot(), 0.02).passed);
}

TEST(AssayTest, BlindControlsUseOneSidedExactMcNemar) {
  // Image right / blind wrong on 9 items, the reverse on 2: P(X <= 2 | Bin(11, 1/2)) = 67/2048.
  std::vector<double> image, blind;
  for (int i = 0; i < 9; ++i) image.push_back(1), blind.push_back(0);
  for (int i = 0; i < 2; ++i) image.push_back(0), blind.push_back(1);
  for (int i = 0; i < 30; ++i) image.push_back(1), blind.push_back(1);
  const AssayTest t = assay_test("blind controls", image, blind, true, {}, boot(), 0.02);
  EXPECT_DOUBLE_EQ(t.p_value, 67.0 / 2048.0);
  EXPECT_FALSE(t.passed);  // p > 0.025
  EXPECT_NEAR(t.gain(), 7.0 / 41.0, 1e-12);
}

TEST(AssayReferences, BestTrivialReferencePerItem) {
  ReferenceTable refs;
  refs["reasoning"]["even"] = {0.5, {{"majority", 0.7}}};
  ItemRecord r = choice_record("big", "reasoning", 0, "even", true, 1, 0.1);
  std::string name;
  EXPECT_DOUBLE_EQ(reference_score(r, refs, &name), 0.7);
  EXPECT_EQ(name, "majority");
  r.task = "odd";  // no references: 1 / choices
  EXPECT_DOUBLE_EQ(reference_score(r, refs, &name), 0.5);
  EXPECT_EQ(name, "chance");
  r.loglik = {-1, -2, -3, -4, -5};
  EXPECT_DOUBLE_EQ(reference_score(r, refs), 0.2);
  ItemRecord g = r;
  g.type = "generate";
  g.loglik.clear();
  g.choice_bytes.clear();
  g.task = "even";
  EXPECT_DOUBLE_EQ(reference_score(g, refs), 0.7);
}

TEST(AssayClaim, BaselineAtChanceIsUninformative) {
  // Two choices (chance 0.5); both models right on every other item: equal, and at chance.
  const RunResult run = paired_run(
      1200, [](int i) { return (i / 2) % 2 == 0; }, [](int i) { return (i / 2) % 2 == 0; }, 20000000, 1000000);
  const ClaimVerdict v = verify_claim(run, assay_spec());
  const SuiteComparison& s = v.candidates[0].suites[0];
  EXPECT_EQ(s.verdict.noninferiority, Verdict::supported);  // equal accuracies, tight interval...
  EXPECT_FALSE(s.verdict.informative);                        // ...but the baseline shows nothing
  EXPECT_EQ(s.verdict.verdict, Verdict::uninformative);
  EXPECT_DOUBLE_EQ(s.assay[0].gain(), 0.0);
  EXPECT_NE(s.verdict.explanation.find("UNINFORMATIVE: the baseline does not beat the trivial references"),
            std::string::npos)
      << s.verdict.explanation;
  EXPECT_EQ(s.uninformative_tasks, (std::vector<std::string>{"even", "odd"}));
  EXPECT_EQ(v.verdict, Verdict::uninformative);
  EXPECT_EQ(v.exit_code(), 5);
  EXPECT_EQ(to_json(v)["comparisons"][0]["suites"][0]["verdict"], "UNINFORMATIVE");
}

TEST(AssayClaim, BaselineAboveChanceAndEqualCandidateIsSupported) {
  const RunResult run = paired_run(
      1200, [](int i) { return i % 10 != 0; }, [](int i) { return i % 10 != 0; }, 20000000, 1000000);
  const ClaimVerdict v = verify_claim(run, assay_spec());
  const SuiteComparison& s = v.candidates[0].suites[0];
  EXPECT_TRUE(s.verdict.informative);
  EXPECT_NEAR(s.assay[0].gain(), 0.4, 1e-12);  // 0.9 against chance 0.5
  EXPECT_TRUE(s.uninformative_tasks.empty());
  EXPECT_EQ(v.verdict, Verdict::supported);
  EXPECT_EQ(v.exit_code(), 0);
}

TEST(AssayClaim, MajorityReferenceAboveTheBaselineMakesItUninformative) {
  const RunResult run = paired_run(
      1200, [](int i) { return i % 10 != 0; }, [](int i) { return i % 10 != 0; }, 20000000, 1000000);
  ReferenceTable refs;
  refs["reasoning"]["even"] = {0.5, {{"majority", 0.95}}};  // a majority answer beats the baseline
  refs["reasoning"]["odd"] = {0.5, {{"majority", 0.3}}};
  const ClaimVerdict v = verify_claim(run, assay_spec(), refs);
  const SuiteComparison& s = v.candidates[0].suites[0];
  // Suite: baseline 0.9 vs mean reference (0.95 + 0.5) / 2 = 0.725: informative overall...
  EXPECT_NEAR(s.assay[0].reference, 0.725, 1e-12);
  EXPECT_TRUE(s.verdict.informative);
  EXPECT_EQ(s.assay[0].references, "chance (1 task), majority (1 task)");
  // ...but the "even" task is at (below) its reference: listed.
  EXPECT_EQ(s.uninformative_tasks, (std::vector<std::string>{"even"}));
  EXPECT_EQ(v.verdict, Verdict::supported);
  // --require-tasks even (or all) makes that task part of the verdict.
  VerifySpec req = assay_spec();
  req.require_tasks = {"even"};
  const ClaimVerdict r = verify_claim(run, req, refs);
  EXPECT_EQ(r.candidates[0].suites[0].verdict.verdict, Verdict::uninformative);
  EXPECT_NE(r.candidates[0].suites[0].verdict.explanation.find("the required task even is at"), std::string::npos);
  req.require_tasks = {"nosuchtask"};
  EXPECT_THROW(verify_claim(run, req, refs), Error);
}

TEST(AssayClaim, RelativeMarginAgainstAHandComputation) {
  // 2000 items, chance 0.5; the baseline is right on 90%, the candidate on 85% (wrong on 100 more).
  const RunResult run = paired_run(
      2000, [](int i) { return i % 10 != 0; }, [](int i) { return i % 10 != 0 && i % 20 != 1; }, 20000000, 1000000);
  VerifySpec s = assay_spec();
  s.margin_relative = 0.8;  // keep 80% of the gain: delta = (1 - 0.8) x (0.9 - 0.5) = 0.08
  const ClaimVerdict v = verify_claim(run, s);
  const SuiteComparison& c = v.candidates[0].suites[0];
  EXPECT_NEAR(c.gain, 0.4, 1e-12);
  EXPECT_NEAR(c.relative.margin, 0.08, 1e-12);
  EXPECT_NEAR(c.verdict.margin, 0.08, 1e-12);
  EXPECT_NEAR(c.verdict.evidence.difference(), -0.05, 1e-12);
  // SE = sqrt(0.05 / 2000) = 0.005: the interval is about [-0.06, -0.04], inside -0.08 ...
  EXPECT_EQ(c.relative.verdict, Verdict::supported);
  EXPECT_EQ(c.verdict.verdict, Verdict::supported);
  // ... and entirely below the absolute -0.02: the absolute reading is shown too.
  EXPECT_EQ(c.absolute.verdict, Verdict::not_supported);
  EXPECT_DOUBLE_EQ(c.absolute.margin, 0.02);
  EXPECT_EQ(v.verdict, Verdict::supported);
  // Without --margin-relative the absolute margin decides; the relative reading is at F = 0.5.
  const ClaimVerdict a = verify_claim(run, assay_spec());
  EXPECT_EQ(a.candidates[0].suites[0].verdict.verdict, Verdict::not_supported);
  EXPECT_NEAR(a.candidates[0].suites[0].relative.margin, 0.2, 1e-12);
  const Json j = to_json(v);
  EXPECT_EQ(j["margin_type"], "relative");
  EXPECT_EQ(j["comparisons"][0]["suites"][0]["absolute"]["verdict"], "NOT_SUPPORTED");
  EXPECT_EQ(j["comparisons"][0]["suites"][0]["relative"]["verdict"], "SUPPORTED");
}

TEST(AssayClaim, MicroAndMacroAccuracy) {
  // Task "a": 100 items, baseline 90, candidate 80 right; task "b": 20 items, both 10 right.
  RunResult run = paired_run(2, [](int) { return true; }, [](int) { return true; }, 20000000, 1000000);
  run.records.clear();
  run.manifest.selected_items.clear();
  for (const char* model : {"big", "small"})
    for (int i = 0; i < 120; ++i) {
      const bool big = std::string(model) == "big";
      const bool a = i < 100;
      const bool right = a ? i < (big ? 90 : 80) : i < 110;
      ItemRecord r = choice_record(model, "reasoning", i, a ? "a" : "b", right, big ? 20000000 : 1000000, 0.1);
      r.loglik = {-1, -2, -3, -4};  // chance 0.25
      run.records.push_back(r);
    }
  const ClaimVerdict micro = verify_claim(run, assay_spec());
  const SuiteComparison& m = micro.candidates[0].suites[0];
  EXPECT_NEAR(m.micro.baseline, 100.0 / 120.0, 1e-12);
  EXPECT_NEAR(m.micro.candidate, 90.0 / 120.0, 1e-12);
  EXPECT_NEAR(m.macro.baseline, (0.9 + 0.5) / 2, 1e-12);
  EXPECT_NEAR(m.macro.candidate, (0.8 + 0.5) / 2, 1e-12);
  EXPECT_NEAR(m.verdict.evidence.baseline_accuracy, 100.0 / 120.0, 1e-12);
  VerifySpec s = assay_spec();
  s.accuracy = "macro";
  const ClaimVerdict macro = verify_claim(run, s);
  const SuiteComparison& x = macro.candidates[0].suites[0];
  EXPECT_NEAR(x.verdict.evidence.baseline_accuracy, 0.7, 1e-12);
  EXPECT_NEAR(x.verdict.evidence.difference(), -0.05, 1e-12);
  EXPECT_NEAR(x.assay[0].gain(), 0.7 - 0.25, 1e-12);  // macro baseline against macro chance
  EXPECT_EQ(to_json(macro)["accuracy"], "macro");
}

// A multimodal suite: image items of task "digits" and their blind controls "digits_blind".
RunResult multimodal_run(double base_image, double base_blind, double cand_image, double cand_blind,
                         bool cand_projector = true) {
  RunResult run = paired_run(2, [](int) { return true; }, [](int) { return true; }, 20000000, 1000000, "multimodal");
  run.records.clear();
  run.manifest.selected_items.clear();
  const int n = 400;
  for (const char* model : {"big", "small"}) {
    const bool big = std::string(model) == "big";
    for (int blind = 0; blind < 2; ++blind)
      for (int i = 0; i < n; ++i) {
        const double acc = big ? (blind ? base_blind : base_image) : (blind ? cand_blind : cand_image);
        const bool right = i < static_cast<int>(acc * n + 0.5);
        ItemRecord r = choice_record(model, "multimodal", i, blind ? "digits_blind" : "digits", right,
                                     big ? 20000000 : 1000000, 0.1);
        r.loglik = {-1, -2, -3, -4, -5, -6, -7, -8, -9, -10};  // chance 0.1
        if (blind) r.item += "-blind";
        if (!blind && !big && !cand_projector) r.applicable = false;
        run.records.push_back(r);
      }
  }
  return run;
}

TEST(AssayControls, VerdictOnImageItemsOnlyWithLifts) {
  // Equal on the images (0.9); the candidate is much worse without them (0.1 vs 0.5), which must
  // not matter: the blind items are controls, not capability items.
  const ClaimVerdict v = verify_claim(multimodal_run(0.9, 0.5, 0.9, 0.1), assay_spec());
  const SuiteComparison& s = v.candidates[0].suites[0];
  EXPECT_EQ(s.items_paired, 400u);
  EXPECT_EQ(s.control_items, 400u);
  EXPECT_DOUBLE_EQ(s.verdict.evidence.difference(), 0.0);
  ASSERT_EQ(s.assay.size(), 2u);
  EXPECT_EQ(s.assay[1].against, "blind controls");
  EXPECT_NEAR(s.assay[1].gain(), 0.4, 1e-12);
  EXPECT_TRUE(s.verdict.informative);
  EXPECT_EQ(v.verdict, Verdict::supported);
  // Lifts per model: task digits and "all", paired, with Newcombe's interval.
  ASSERT_EQ(s.controls.size(), 4u);
  EXPECT_EQ(s.controls[0].model, "big");
  EXPECT_EQ(s.controls[0].task, "digits");
  EXPECT_NEAR(*s.controls[0].lift, 0.4, 1e-12);
  EXPECT_EQ(s.controls[0].pairs, 400u);
  PairedTable t;  // image right on 360, blind on the first 200 of them: b = 160, a = 200, d = 40
  t.a = 200, t.b = 160, t.c = 0, t.d = 40;
  EXPECT_DOUBLE_EQ(s.controls[0].lift_ci->lower, newcombe_paired_interval(t).lower);
  EXPECT_NEAR(*s.controls[2].lift, 0.8, 1e-12);  // the candidate: 0.9 - 0.1
  // A candidate worse on the images alone is inferior.
  EXPECT_EQ(verify_claim(multimodal_run(0.9, 0.5, 0.7, 0.5), assay_spec()).verdict, Verdict::not_supported);
}

TEST(AssayControls, BaselineThatDoesNotUseTheImageIsUninformative) {
  // The baseline is as good without the image (0.6 vs 0.6, both far above chance 0.1).
  const ClaimVerdict v = verify_claim(multimodal_run(0.6, 0.6, 0.6, 0.6), assay_spec());
  const SuiteComparison& s = v.candidates[0].suites[0];
  EXPECT_TRUE(s.assay[0].passed);   // beats chance...
  EXPECT_FALSE(s.assay[1].passed);  // ...but not its blind controls
  EXPECT_EQ(s.verdict.verdict, Verdict::uninformative);
  EXPECT_NE(s.verdict.explanation.find("blind controls"), std::string::npos);
  EXPECT_EQ(v.exit_code(), 5);
}

TEST(AssayControls, NoProjectorMeansNotApplicableNotComparedOnBlindItems) {
  RunResult run = multimodal_run(0.9, 0.5, 0.9, 0.5, false);
  const RunResult other = paired_run(
      1200, [](int i) { return i % 10 != 0; }, [](int i) { return i % 10 != 0; }, 20000000, 1000000);
  run.manifest.suites.push_back(other.manifest.suites[0]);
  run.records.insert(run.records.end(), other.records.begin(), other.records.end());
  const ClaimVerdict v = verify_claim(run, assay_spec());
  EXPECT_EQ(v.candidates[0].suites[1].verdict.verdict, Verdict::supported);  // reasoning
  // The claim names multimodal, which this pair cannot take: never SUPPORTED.
  EXPECT_EQ(v.verdict, Verdict::uninformative);
  const SuiteComparison& s = v.candidates[0].suites[0];
  EXPECT_FALSE(s.applicable);
  EXPECT_EQ(s.items_paired, 0u);
  EXPECT_EQ(s.control_items, 400u);
  EXPECT_FALSE(s.controls[2].image_accuracy);  // the candidate's image accuracy is N/A
  EXPECT_NE(s.verdict.explanation.find("not applicable"), std::string::npos);
}

TEST(AssayClaim, TheClaimsComputeMeasure) {
  const RunResult run = paired_run(
      1200, [](int i) { return i % 10 != 0; }, [](int i) { return i % 10 != 0; }, 20000000, 1000000);
  VerifySpec s = assay_spec();
  s.compute = "params";  // the fixture's models: 1e8 and 1e7 parameters
  s.min_ratio = 12;
  const ClaimVerdict v = verify_claim(run, s);
  EXPECT_DOUBLE_EQ(v.candidates[0].compute.claim.ratio, 10.0);
  EXPECT_FALSE(v.candidates[0].compute.claim.holds);
  EXPECT_TRUE(v.candidates[0].compute.flops.holds);  // 20x FLOPs, but the claim is on parameters
  EXPECT_EQ(v.verdict, Verdict::not_supported);
  s.compute = "memory";
  s.min_ratio = 5;
  EXPECT_EQ(verify_claim(run, s).verdict, Verdict::supported);  // (4e8 + 1 MiB + 64 KiB) / (4e7 + ...) = 9.7x
  s.compute = "training";  // unknown in the fixture: an error, never a silent pass
  EXPECT_THROW(verify_claim(run, s), Error);
  s.compute = "joules";
  EXPECT_THROW(verify_claim(run, s), Error);
}

TEST(AssayOverall, Precedence) {
  ComputeCheck compute = check_compute({20, 1, 10});
  auto suite = [](const char* name, Verdict ni, bool informative) {
    SuiteVerdict s;
    s.evidence.suite = name;
    s.noninferiority = ni;
    s.informative = informative;
    s.verdict = informative ? ni : Verdict::uninformative;
    return s;
  };
  EXPECT_EQ(decide_overall({suite("a", Verdict::supported, true), suite("b", Verdict::supported, false)}, compute).verdict,
            Verdict::uninformative);
  EXPECT_EQ(decide_overall({suite("a", Verdict::inconclusive, true), suite("b", Verdict::supported, false)}, compute).verdict,
            Verdict::inconclusive);
  // A loss shown on an uninformative suite is still a loss.
  EXPECT_EQ(decide_overall({suite("a", Verdict::supported, true), suite("b", Verdict::not_supported, false)}, compute).verdict,
            Verdict::not_supported);
  // A suite the pair cannot take blocks SUPPORTED.
  const OverallVerdict na = decide_overall({suite("a", Verdict::supported, true)}, compute, {"multimodal"});
  EXPECT_EQ(na.verdict, Verdict::uninformative);
  EXPECT_NE(na.explanation.find("multimodal"), std::string::npos);
  EXPECT_EQ(exit_code(Verdict::uninformative), 5);
  EXPECT_EQ(to_string(Verdict::uninformative), "UNINFORMATIVE");
}

}  // namespace
}  // namespace tenx::eval
