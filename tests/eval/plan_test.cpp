// The analysis plan file (plan.hpp): what to_json writes plan_from_json reads back, defaults for
// absent fields, and errors that name the field.
#include "tenx/eval/stats/plan.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "eval/run_fixture.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/sha256.hpp"

namespace tenx::eval {
namespace {

TEST(Plan, RoundTripAndDefaults) {
  AnalysisPlan p;
  p.claim = "small keeps big's reasoning";
  p.baseline = "big";
  p.candidates = {"small", "tiny"};
  p.suites = {"reasoning", "health"};
  p.require_tasks = {"babi_counting"};
  p.margin_type = "relative";
  p.margin = 0.03;
  p.margin_relative = 0.75;
  p.alpha = 0.05;
  p.accuracy = "macro";
  p.compute = "params";
  p.min_ratio = 8;
  p.seed = 18446744073709551615ull;  // the full uint64 range survives
  p.limit = 300;
  p.bootstrap_resamples = 2000;
  p.protocol = "greedy";
  const AnalysisPlan q = plan_from_json(to_json(p), "p.json");
  EXPECT_EQ(to_json(q), to_json(p));
  EXPECT_EQ(q.seed, p.seed);
  EXPECT_EQ(*q.margin_relative, 0.75);

  const AnalysisPlan d = plan_from_json(
      Json::parse(R"({"format": 1, "kind": "tenx-plan", "baseline": "b", "candidates": ["c"]})"), "d.json");
  EXPECT_EQ(d.suites, std::vector<std::string>{"all"});
  EXPECT_EQ(d.margin_type, "absolute");
  EXPECT_DOUBLE_EQ(d.margin, 0.02);
  EXPECT_DOUBLE_EQ(d.alpha, 0.025);
  EXPECT_EQ(d.accuracy, "micro");
  EXPECT_EQ(d.compute, "flops");
  EXPECT_DOUBLE_EQ(d.min_ratio, 10.0);
  EXPECT_EQ(d.bootstrap_resamples, 10000);
}

TEST(Plan, ErrorsNameTheField) {
  auto error_of = [](const char* text) {
    try {
      plan_from_json(Json::parse(text), "x.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  const std::string head = R"({"format": 1, "kind": "tenx-plan", "baseline": "b", "candidates": ["c"], )";
  EXPECT_NE(error_of((head + R"("compute": {"measure": "joules"}})").c_str()).find("x.json: compute.measure: must be one of"),
            std::string::npos);
  EXPECT_NE(error_of((head + R"("candidates2": 1})").c_str()).find("x.json: candidates2: unknown field"),
            std::string::npos);
  EXPECT_NE(error_of((head + R"("seed": -1})").c_str()).find("x.json: seed: out of range: -1 is negative"),
            std::string::npos);
  EXPECT_NE(error_of((head + R"("suites": []})").c_str()).find("x.json: suites: must name at least one"),
            std::string::npos);
  EXPECT_NE(error_of((head + R"("accuracy": "mean"})").c_str()).find("x.json: accuracy: must be one of micro, macro"),
            std::string::npos);
  EXPECT_NE(error_of("[1]").find("x.json: (top level): expected a JSON object, got a list"), std::string::npos);
}

TEST(Plan, LoadHashesTheFileBytes) {
  const auto dir = testing::fresh_dir("plan-load");
  const std::string text = R"({"format": 1, "kind": "tenx-plan", "baseline": "b", "candidates": ["c"]})" "\n";
  std::ofstream(dir / "p.json") << text;
  const LoadedPlan p = load_plan(dir / "p.json");
  EXPECT_EQ(p.sha256, sha256_hex(text));
  EXPECT_EQ(p.plan.baseline, "b");
  EXPECT_THROW(load_plan(dir / "none.json"), Error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tenx::eval
