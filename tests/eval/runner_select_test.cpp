// --limit: a seeded subset stratified by task, deterministic, and the same for every model.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "runner_fixtures.hpp"
#include "tenx/eval/run/item_runner.hpp"
#include "tenx/eval/run/runner.hpp"
#include "tenx/suites/suite_io.hpp"

namespace tenx::eval {
namespace {

using testing::TempDir;

std::vector<suites::Item> items_with_tasks(const std::vector<std::pair<std::string, int>>& tasks) {
  std::vector<suites::Item> items;
  // Interleave the tasks so that file order and task order differ.
  bool added = true;
  for (int i = 0; added; ++i) {
    added = false;
    for (const auto& [task, n] : tasks) {
      if (i >= n) continue;
      suites::Item item;
      item.id = task + "-" + std::to_string(i);
      item.task = task;
      item.body = suites::ChoiceBody{"Q: x? A:", {" a", " b"}, 0};
      items.push_back(item);
      added = true;
    }
  }
  return items;
}

TEST(RunnerSelect, StratifiedProportionalAtLeastOnePerTask) {
  const auto items = items_with_tasks({{"a", 50}, {"b", 30}, {"c", 3}});
  const std::vector<size_t> sel = select_items(items, 10, 42, "s");
  ASSERT_EQ(sel.size(), 10u);
  std::map<std::string, int> per_task;
  for (size_t i : sel) ++per_task[items[i].task];
  // Quotas 10·50/83 = 6.02, 10·30/83 = 3.61, 10·3/83 = 0.36 -> 6, 3, and the minimum 1.
  EXPECT_EQ(per_task["a"], 6);
  EXPECT_EQ(per_task["b"], 3);
  EXPECT_EQ(per_task["c"], 1);
  EXPECT_TRUE(std::is_sorted(sel.begin(), sel.end()));
  EXPECT_EQ(std::set<size_t>(sel.begin(), sel.end()).size(), sel.size());
  // Deterministic; another seed draws other items; another suite name too.
  EXPECT_EQ(select_items(items, 10, 42, "s"), sel);
  EXPECT_NE(select_items(items, 10, 43, "s"), sel);
  EXPECT_NE(select_items(items, 10, 42, "t"), sel);
  // Largest remainders: 20 -> 12.05, 7.23, 0.72 -> 12, 7, 1.
  per_task.clear();
  for (size_t i : select_items(items, 20, 1, "s")) ++per_task[items[i].task];
  EXPECT_EQ(per_task["a"], 12);
  EXPECT_EQ(per_task["b"], 7);
  EXPECT_EQ(per_task["c"], 1);
  // Fewer items than tasks: the largest tasks get one each.
  per_task.clear();
  for (size_t i : select_items(items, 2, 1, "s")) ++per_task[items[i].task];
  EXPECT_EQ(per_task["a"], 1);
  EXPECT_EQ(per_task["b"], 1);
  // No limit, or a limit at least the size: everything in file order.
  EXPECT_EQ(select_items(items, 0, 1, "s").size(), items.size());
  EXPECT_EQ(select_items(items, 1000, 1, "s").size(), items.size());
}

TEST(RunnerSelect, EveryModelGetsTheSameItemsAndRunJsonStoresThem) {
  TempDir dir;
  std::vector<std::string> lines;
  for (int i = 0; i < 24; ++i)
    lines.push_back(testing::choice_line("q" + std::to_string(i), i % 3 == 0 ? "t1" : "t2",
                                         "Q: " + std::to_string(i) + "? A:", {" yes", " no"}, i % 2));
  const auto suite = testing::write_suite(dir, "mini", {{"t1", "choice"}, {"t2", "choice"}}, lines);
  RunOptions o;
  o.models = {{"one", testing::write_model(dir, "one", 1).string()}, {"two", testing::write_model(dir, "two", 2).string()}};
  o.suites = {suite.string()};
  o.limit = 7;
  o.seed = 9;
  o.out_dir = dir / "run";
  const RunResult r = run_evaluation(o);
  ASSERT_EQ(r.records.size(), 14u);
  std::vector<std::string> one, two;
  for (const ItemRecord& rec : r.records) (rec.model == "one" ? one : two).push_back(rec.item);
  EXPECT_EQ(one, two);
  const std::vector<std::string>& stored = r.manifest.selected_items.at("mini");
  EXPECT_EQ(stored, one);
  // The same as select_items on the split.
  const auto loaded = suites::load_suite(suite);
  std::vector<std::string> expected;
  for (size_t i : select_items(loaded.split("test"), 7, 9, "mini")) expected.push_back(loaded.split("test")[i].id);
  EXPECT_EQ(stored, expected);
  // And read back from the folder.
  const RunResult back = read_run(o.out_dir);
  EXPECT_EQ(back.manifest.selected_items.at("mini"), stored);
  ASSERT_EQ(back.records.size(), r.records.size());
  for (size_t i = 0; i < back.records.size(); ++i) EXPECT_EQ(to_json(back.records[i]), to_json(r.records[i]));
  EXPECT_EQ(back.manifest.models[0].n_params, r.manifest.models[0].n_params);
  EXPECT_FALSE(back.manifest.models[0].sha256.empty());
  EXPECT_GT(back.manifest.models[0].flops_per_token, 0u);
  EXPECT_GT(back.manifest.models[0].kv_bytes_peak, 0u);
}

}  // namespace
}  // namespace tenx::eval
