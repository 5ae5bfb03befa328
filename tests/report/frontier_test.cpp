// `tenx frontier` on constructed reports: pooled accuracies, FLOPs per item, the Pareto front and
// the iso-accuracy ratio, each worked out by hand below (not through pareto.hpp).
#include "tenx/eval/report/frontier.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "cli/run_cli.hpp"
#include "report/report_fixture.hpp"
#include "tenx/util/error.hpp"

namespace tenx::eval {
namespace {

using test::fixture_report;
using test::make_group;

// Four models on suites "a" (100 items) and "b" (300 items); pooled accuracy counts each item once.
//   tiny:  a 40/100 @1e9,  b 160/300 @1e9   -> 200/400 = 0.50, 1e9 FLOPs
//   mid:   a 60/100 @5e10, b 180/300 @5e10  -> 240/400 = 0.60, 5e10 (dominated by small)
//   big:   a 80/100 @1e11, b 240/300 @1e11  -> 320/400 = 0.80, 1e11
// small's FLOPs differ per suite: a 4e9 per item, b 12e9 per item -> (100*4e9 + 300*12e9)/400 = 1e10;
// its accuracy 70/100 + 210/300 = 280/400 = 0.70.
std::vector<ReportView> family() {
  const Json one = fixture_report({{"tiny"}, {"small"}},
                                  {make_group("tiny", "a", 100, 40, 1e9), make_group("tiny", "b", 300, 160, 1e9),
                                   make_group("small", "a", 100, 70, 4e9), make_group("small", "b", 300, 210, 12e9)});
  const Json two = fixture_report({{"mid"}, {"big"}},
                                  {make_group("mid", "a", 100, 60, 5e10), make_group("mid", "b", 300, 180, 5e10),
                                   make_group("big", "a", 100, 80, 1e11), make_group("big", "b", 300, 240, 1e11)});
  return {report_view_from_json(one, "one.json"), report_view_from_json(two, "two.json")};
}

TEST(Frontier, PooledPointsFrontAndRatio) {
  const Frontier f = compute_frontier(family(), "mid");
  ASSERT_EQ(f.models.size(), 4u);
  EXPECT_EQ(f.suites, (std::vector<std::string>{"a", "b"}));
  EXPECT_DOUBLE_EQ(f.models[0].pooled.accuracy, 0.5);
  EXPECT_DOUBLE_EQ(f.models[1].pooled.accuracy, 0.7);
  EXPECT_DOUBLE_EQ(f.models[1].pooled.flops_per_item, 1e10);
  EXPECT_EQ(f.models[1].pooled.items, 400u);
  EXPECT_EQ(f.models[1].pooled.successes, 280u);
  // Front: tiny, small, big (mid is dominated by small: more FLOPs, less accuracy).
  ASSERT_EQ(f.front.size(), 3u);
  EXPECT_EQ(f.models[f.front[0]].pooled.model, "tiny");
  EXPECT_EQ(f.models[f.front[1]].pooled.model, "small");
  EXPECT_EQ(f.models[f.front[2]].pooled.model, "big");
  EXPECT_FALSE(f.models[2].on_front);
  // mid's accuracy 0.6 lies halfway between tiny (0.5, 1e9) and small (0.7, 1e10): halfway in
  // log10 FLOPs, 10^9.5; ratio 5e10 / 10^9.5.
  EXPECT_NEAR(f.baseline_flops_needed / std::pow(10.0, 9.5), 1.0, 1e-12);
  EXPECT_NEAR(f.iso_accuracy_ratio, 5e10 / std::pow(10.0, 9.5), 1e-9);
  // Wilson interval of 280/400 at 95% (z = 1.959964): centre (280 + z²/2)/(400 + z²), half
  // z/(400 + z²) sqrt(280*120/400 + z²/4).
  const double z = 1.959963984540054, n = 400, x = 280;
  const double centre = (x + z * z / 2) / (n + z * z);
  const double half = z / (n + z * z) * std::sqrt(x * (n - x) / n + z * z / 4);
  EXPECT_NEAR(f.models[1].pooled.ci.lower, centre - half, 1e-9);
  EXPECT_NEAR(f.models[1].pooled.ci.upper, centre + half, 1e-9);
}

TEST(Frontier, DefaultBaselineIsTheMostExpensiveModel) {
  const Frontier f = compute_frontier(family());
  EXPECT_EQ(f.models[f.baseline].pooled.model, "big");
  EXPECT_DOUBLE_EQ(f.iso_accuracy_ratio, 1.0);  // big is on the front: it needs its own FLOPs
}

TEST(Frontier, SuitesNotCommonToAllModelsAreLeftOut) {
  // "c" only has an accuracy for tiny and small (mid and big N/A there).
  Json one = fixture_report({{"tiny"}, {"small"}},
                            {make_group("tiny", "a", 100, 40, 1e9), make_group("tiny", "c", 10, 10, 1e9),
                             make_group("small", "a", 100, 70, 4e9), make_group("small", "c", 10, 10, 4e9)});
  auto na = make_group("big", "c", 10, 0, 1e11);
  na.applicable = false;
  Json two = fixture_report({{"mid"}, {"big"}},
                            {make_group("mid", "a", 100, 60, 5e10), make_group("big", "a", 100, 80, 1e11), na});
  const Frontier f = compute_frontier({report_view_from_json(one, "one"), report_view_from_json(two, "two")});
  EXPECT_EQ(f.suites, std::vector<std::string>{"a"});
  EXPECT_DOUBLE_EQ(f.models[0].pooled.accuracy, 0.4);
}

TEST(Frontier, RejectsDuplicateNamesAndUnknownBaseline) {
  auto reports = family();
  reports.push_back(reports[0]);
  reports.back().subject = "three.json";
  try {
    compute_frontier(reports);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.subject(), "three.json");
  }
  EXPECT_THROW(compute_frontier(family(), "nobody"), Error);
}

TEST(FrontierCli, TableJsonAndSvg) {
  test::TempDir dir;
  test::write_json(dir / "one.json",
                   fixture_report({{"tiny"}, {"small"}},
                                  {make_group("tiny", "a", 100, 40, 1e9), make_group("tiny", "b", 300, 160, 1e9),
                                   make_group("small", "a", 100, 70, 4e9), make_group("small", "b", 300, 210, 12e9)}));
  std::filesystem::create_directories(dir.path / "run2");
  test::write_json(dir.path / "run2" / "report.json",
                   fixture_report({{"mid"}, {"big"}},
                                  {make_group("mid", "a", 100, 60, 5e10), make_group("mid", "b", 300, 180, 5e10),
                                   make_group("big", "a", 100, 80, 1e11), make_group("big", "b", 300, 240, 1e11)}));
  const auto r = test::run_tenx("frontier " + (dir / "one.json") + " " + (dir / "run2") +
                                " --baseline mid --out " + (dir / "out") + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const Json j = Json::parse(r.out);
  EXPECT_EQ(j["front"], Json({"tiny", "small", "big"}));
  EXPECT_NEAR(j["iso_accuracy_ratio"].get<double>(), 5e10 / std::pow(10.0, 9.5), 1e-9);
  const std::string svg = test::slurp(dir.path / "out" / "frontier.svg");
  EXPECT_NE(svg.find("id=\"plot-frontier\""), std::string::npos);
  EXPECT_NE(svg.find("id=\"pareto-front\""), std::string::npos);
  EXPECT_NE(test::slurp(dir.path / "out" / "frontier.md").find("| small | "), std::string::npos);

  const auto one_model = test::run_tenx("frontier " + (dir / "missing.json"));
  EXPECT_EQ(one_model.code, 2);
  EXPECT_NE(one_model.err.find("missing.json"), std::string::npos);
}

}  // namespace
}  // namespace tenx::eval
