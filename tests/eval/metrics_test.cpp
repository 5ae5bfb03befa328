// The metrics layer on constructed runs: every expected value is computed by hand or taken from a
// published table (Wilson intervals: Newcombe 1998, Table I; percentiles: numpy 'linear').
#include "tenx/eval/report/metrics.hpp"

#include <gtest/gtest.h>

#include "eval/run_fixture.hpp"
#include "tenx/util/error.hpp"

namespace tenx::eval {
namespace {

using testing::choice_record;

std::vector<const ItemRecord*> ptrs(const std::vector<ItemRecord>& v) {
  std::vector<const ItemRecord*> out;
  for (const auto& r : v) out.push_back(&r);
  return out;
}

std::vector<ItemRecord> proportion(int right, int n) {
  std::vector<ItemRecord> v;
  for (int i = 0; i < n; ++i) v.push_back(choice_record("m", "s", i, "t", i < right, 100, 0.1));
  return v;
}

TEST(Metrics, AccuracyIsWilsonAsPublished) {
  // Newcombe (1998) Stat Med 17:857, Table I, method 3.
  const auto a = proportion(81, 263);
  const GroupMetrics g = group_metrics(ptrs(a), "m", "s", "");
  ASSERT_TRUE(g.accuracy);
  EXPECT_NEAR(g.accuracy->value, 81.0 / 263.0, 1e-15);
  EXPECT_NEAR(g.accuracy->ci.lower, 0.2553, 5e-5);
  EXPECT_NEAR(g.accuracy->ci.upper, 0.3662, 5e-5);
  EXPECT_EQ(g.accuracy->method, "wilson");
  EXPECT_EQ(g.accuracy->n, 263u);
  const auto b = proportion(15, 148);
  const GroupMetrics h = group_metrics(ptrs(b), "m", "s", "");
  EXPECT_NEAR(h.accuracy->ci.lower, 0.0624, 5e-5);
  EXPECT_NEAR(h.accuracy->ci.upper, 0.1605, 5e-5);
  // 0/1 scores: the score estimate is the same Wilson interval, acc_norm present for choice items
  EXPECT_EQ(h.score->method, "wilson");
  EXPECT_DOUBLE_EQ(h.score->ci.lower, h.accuracy->ci.lower);
  ASSERT_TRUE(h.accuracy_norm);
  EXPECT_NEAR(h.accuracy_norm->value, 15.0 / 148.0, 1e-15);
}

TEST(Metrics, NotApplicableItemsAreLeftOutNeverZero) {
  auto v = proportion(81, 263);
  for (int i = 0; i < 3; ++i) {
    auto r = choice_record("m", "s", 500 + i, "t", false, 999999, 50.0);
    r.applicable = false;
    v.push_back(r);
  }
  const GroupMetrics g = group_metrics(ptrs(v), "m", "s", "");
  EXPECT_EQ(g.items, 266u);
  EXPECT_EQ(g.applicable, 263u);
  EXPECT_EQ(g.not_applicable, 3u);
  EXPECT_NEAR(g.accuracy->ci.lower, 0.2553, 5e-5);  // unchanged by the N/A items
  EXPECT_DOUBLE_EQ(g.compute.flops_per_item, 100.0);
  EXPECT_DOUBLE_EQ(g.latency->p99_seconds, 0.1);

  std::vector<ItemRecord> na(v.end() - 3, v.end());
  const GroupMetrics n = group_metrics(ptrs(na), "m", "s", "");
  EXPECT_EQ(n.applicable, 0u);
  EXPECT_FALSE(n.accuracy);
  EXPECT_FALSE(n.latency);
  const Json j = to_json(n);
  EXPECT_TRUE(j["accuracy"].is_null());
  EXPECT_TRUE(j["latency"].is_null());
}

TEST(Metrics, LatencyPercentilesAsNumpyLinear) {
  // numpy.percentile([1, 2, 3, 4, 10], [50, 90, 99]) = [3, 7.6, 9.76]
  std::vector<ItemRecord> v;
  const double secs[] = {10, 1, 4, 2, 3};
  for (int i = 0; i < 5; ++i) v.push_back(choice_record("m", "s", i, "t", true, 1000 * (i + 1), secs[i]));
  const GroupMetrics g = group_metrics(ptrs(v), "m", "s", "");
  ASSERT_TRUE(g.latency);
  EXPECT_DOUBLE_EQ(g.latency->p50_seconds, 3.0);
  EXPECT_NEAR(g.latency->p90_seconds, 7.6, 1e-12);
  EXPECT_NEAR(g.latency->p99_seconds, 9.76, 1e-12);
  EXPECT_DOUBLE_EQ(g.latency->total_seconds, 20.0);
  EXPECT_DOUBLE_EQ(g.latency->mean_seconds, 4.0);
  EXPECT_DOUBLE_EQ(g.latency->items_per_second, 0.25);
  EXPECT_FALSE(g.latency->mean_time_to_first_token_seconds);  // choice only: nothing generated
  EXPECT_FALSE(g.latency->ms_per_decoded_token);
  // FLOPs 1000..5000: mean 3000, total 15000; naive is twice that in the fixture
  EXPECT_DOUBLE_EQ(g.compute.flops_per_item, 3000.0);
  EXPECT_DOUBLE_EQ(g.compute.flops_total, 15000.0);
  EXPECT_DOUBLE_EQ(g.compute.naive_flops_per_item, 6000.0);
  EXPECT_EQ(g.compute.tokens_in_total, 100);
  EXPECT_DOUBLE_EQ(g.compute.tokens_in_per_item, 20.0);
}

TEST(Metrics, GenerationTimingAgentsAndErrors) {
  std::vector<ItemRecord> v(4);
  for (int i = 0; i < 4; ++i) {
    v[i].model = "m";
    v[i].suite = "s";
    v[i].item = "g" + std::to_string(i);
    v[i].task = "t";
    v[i].seconds = 1.0;
  }
  v[0].type = "generate";  // one token: counts for TTFT only
  v[0].tokens_out = 1;
  v[0].time_to_first_token = 0.5;
  v[0].correct = true;
  v[0].score = 1;
  v[1].type = "generate";  // three tokens
  v[1].tokens_out = 3;
  v[1].time_to_first_token = 0.3;
  v[1].decode_seconds_per_token = 0.01;
  v[2].type = "agent";  // 4 calls, 3 valid, half the gold calls
  v[2].calls = 4;
  v[2].valid_calls = 3;
  v[2].steps = 5;
  v[2].call_match = 0.5;
  v[2].stop_reason = "max_steps";
  v[3].type = "agent";  // correct but errored: counted wrong
  v[3].error = "prompt longer than the context";
  v[3].correct = true;
  v[3].score = 1;
  v[3].calls = 2;
  v[3].valid_calls = 2;
  v[3].steps = 1;
  v[3].call_match = 1.0;
  v[3].stop_reason = "context";
  const GroupMetrics g = group_metrics(ptrs(v), "m", "s", "");
  EXPECT_EQ(g.errors, 1u);
  EXPECT_DOUBLE_EQ(g.accuracy->value, 0.25);  // only v[0]
  EXPECT_FALSE(g.accuracy_norm);              // no choice items
  EXPECT_NEAR(*g.latency->mean_time_to_first_token_seconds, 0.4, 1e-15);
  EXPECT_NEAR(*g.latency->ms_per_decoded_token, 10.0, 1e-12);
  ASSERT_TRUE(g.agent);
  EXPECT_EQ(g.agent->items, 2u);
  EXPECT_DOUBLE_EQ(g.agent->valid_call_rate->value, 5.0 / 6.0);
  const Interval w = wilson_interval(5, 6);
  EXPECT_DOUBLE_EQ(g.agent->valid_call_rate->ci.lower, w.lower);
  EXPECT_DOUBLE_EQ(g.agent->call_match.value, 0.75);
  EXPECT_EQ(g.agent->call_match.method, "bootstrap");  // 0.5 is partial credit
  EXPECT_DOUBLE_EQ(g.agent->mean_steps, 3.0);
  EXPECT_EQ(g.agent->stop_reasons.at("max_steps"), 1u);
  EXPECT_EQ((std::vector<std::string>{"agent", "generate"}), g.types);
}

TEST(Metrics, PartialScoresUseTheSeededBootstrap) {
  std::vector<ItemRecord> v;
  const double s[] = {0.0, 0.25, 0.5, 1.0, 1.0, 0.75};
  for (int i = 0; i < 6; ++i) {
    auto r = choice_record("m", "s", i, "t", s[i] == 1.0, 1, 0.1);
    r.score = s[i];
    v.push_back(r);
  }
  MetricsOptions o;
  o.bootstrap_resamples = 2000;
  o.seed = 7;
  const GroupMetrics g = group_metrics(ptrs(v), "m", "s", "", o);
  EXPECT_EQ(g.score->method, "bootstrap");
  EXPECT_DOUBLE_EQ(g.score->value, 3.5 / 6.0);
  EXPECT_LT(g.score->ci.lower, g.score->value);
  EXPECT_GT(g.score->ci.upper, g.score->value);
  EXPECT_GE(g.score->ci.lower, 0.0);
  EXPECT_LE(g.score->ci.upper, 1.0);
  const GroupMetrics again = group_metrics(ptrs(v), "m", "s", "", o);  // deterministic
  EXPECT_EQ(again.score->ci.lower, g.score->ci.lower);
  EXPECT_EQ(again.score->ci.upper, g.score->ci.upper);
}

TEST(Metrics, RunGroupsPerSuiteAndTaskAndModelMemory) {
  const RunResult run = testing::paired_run(
      10, [](int) { return true; }, [](int i) { return i < 5; }, 1000, 100);
  const RunMetrics m = compute_metrics(run);
  ASSERT_EQ(m.models.size(), 2u);
  ASSERT_EQ(m.suites.size(), 2u);
  ASSERT_EQ(m.tasks.size(), 4u);
  EXPECT_EQ(m.suites[0].model, "big");
  EXPECT_DOUBLE_EQ(m.suites[0].accuracy->value, 1.0);
  EXPECT_DOUBLE_EQ(m.suites[1].accuracy->value, 0.5);
  EXPECT_EQ(m.tasks[2].model, "small");
  EXPECT_EQ(m.tasks[2].task, "even");  // sorted by name; even items 0,2,4 right of 0,2,4,6,8
  EXPECT_DOUBLE_EQ(m.tasks[2].accuracy->value, 0.6);
  EXPECT_EQ(m.models[0].memory.weight_bytes, 400000000u);
  EXPECT_EQ(m.models[1].memory.peak_rss_bytes, 100000000u);
  EXPECT_EQ(m.models[1].items, 10u);
  EXPECT_FALSE(m.models[0].training.flops);

  RunResult bad = run;
  bad.records[0].model = "ghost";
  EXPECT_THROW(compute_metrics(bad), tenx::Error);
}

}  // namespace
}  // namespace tenx::eval
