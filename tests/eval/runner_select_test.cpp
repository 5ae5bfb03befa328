// --limit: a seeded subset stratified by task, deterministic, and the same for every model.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "runner_fixtures.hpp"
#include "tenx/eval/run/item_runner.hpp"
#include "tenx/eval/run/runner.hpp"
#include "tenx/suites/suite_io.hpp"
#include "tenx/util/error.hpp"

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

// --shard I/N: the N parts of a selection are disjoint, together the selection, and each task is
// split evenly (the deal goes round the shards and continues across tasks).
TEST(RunnerShard, ShardsPartitionTheSelectionEvenlyPerTask) {
  const auto items = items_with_tasks({{"a", 50}, {"b", 31}, {"c", 3}, {"d", 1}});
  for (int64_t limit : {0, 40}) {
    const std::vector<size_t> selection = select_items(items, limit, 5, "s");
    for (int n : {1, 2, 3, 7}) {
      std::vector<int> owner(selection.size(), 0);
      std::vector<size_t> sizes;
      std::map<std::string, std::vector<int>> per_task;  // task -> items per shard
      for (int i = 1; i <= n; ++i) {
        const std::vector<size_t> part = shard_positions(items, selection, i, n, 5, "s");
        EXPECT_TRUE(std::is_sorted(part.begin(), part.end()));
        sizes.push_back(part.size());
        for (size_t p : part) {
          ASSERT_LT(p, selection.size());
          EXPECT_EQ(owner[p]++, 0) << "position " << p << " in two shards";
          auto& counts = per_task[items[selection[p]].task];
          counts.resize(static_cast<size_t>(n));
          ++counts[static_cast<size_t>(i - 1)];
        }
        EXPECT_EQ(shard_positions(items, selection, i, n, 5, "s"), part);  // deterministic
      }
      for (size_t p = 0; p < owner.size(); ++p) EXPECT_EQ(owner[p], 1) << "position " << p << " in no shard";
      EXPECT_LE(*std::max_element(sizes.begin(), sizes.end()) - *std::min_element(sizes.begin(), sizes.end()), 1u);
      for (const auto& [task, counts] : per_task)
        EXPECT_LE(*std::max_element(counts.begin(), counts.end()) - *std::min_element(counts.begin(), counts.end()), 1)
            << task << " in " << n << " shards";
    }
  }
  // The seed draws the deal: another seed, another first shard (84 items, 1 in 10^20 to coincide).
  const std::vector<size_t> all = select_items(items, 0, 5, "s");
  EXPECT_NE(shard_positions(items, all, 1, 2, 5, "s"), shard_positions(items, all, 1, 2, 6, "s"));
  EXPECT_EQ(shard_positions(items, all, 1, 1, 5, "s").size(), all.size());
}

TEST(RunnerShard, ABlindControlLandsInItsImageItemsShard) {
  // "img_blind" item k is the control of "img" item k (the order of the generator).
  const auto items = items_with_tasks({{"img", 20}, {"text", 13}, {"img_blind", 20}});
  std::map<std::string, size_t> index_of;
  for (size_t i = 0; i < items.size(); ++i) index_of[items[i].id] = i;
  const std::vector<size_t> all = select_items(items, 0, 3, "s");
  for (int n : {2, 3, 4}) {
    std::map<std::string, int> shard_of;  // item id -> shard
    for (int i = 1; i <= n; ++i)
      for (size_t p : shard_positions(items, all, i, n, 3, "s")) shard_of[items[all[p]].id] = i;
    ASSERT_EQ(shard_of.size(), items.size());
    for (int k = 0; k < 20; ++k)
      EXPECT_EQ(shard_of["img_blind-" + std::to_string(k)], shard_of["img-" + std::to_string(k)]) << k << " of " << n;
  }
}

TEST(RunnerShard, AnIndexOutsideOneToNIsAnError) {
  const auto items = items_with_tasks({{"a", 5}});
  const std::vector<size_t> all = select_items(items, 0, 1, "s");
  for (auto [i, n] : {std::pair{0, 3}, std::pair{4, 3}, std::pair{1, 0}, std::pair{-1, 2}}) {
    try {
      (void)shard_positions(items, all, i, n, 1, "s");
      ADD_FAILURE() << i << "/" << n << " accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.subject(), "--shard");
      EXPECT_NE(std::string(e.what()).find("expected I/N with 1 <= I <= N"), std::string::npos) << e.what();
    }
  }
}

// A shard's run.json: its ids and their positions in the whole selection, read back as written.
TEST(RunnerShard, AShardRunRecordsItsPartAndReadsBack) {
  TempDir dir;
  std::vector<std::string> lines;
  for (int i = 0; i < 12; ++i)
    lines.push_back(testing::choice_line("q" + std::to_string(i), i % 3 == 0 ? "t1" : "t2",
                                         "Q: " + std::to_string(i) + "? A:", {" yes", " no"}, i % 2));
  const auto suite = testing::write_suite(dir, "mini", {{"t1", "choice"}, {"t2", "choice"}}, lines);
  RunOptions o;
  o.models = {{"one", testing::write_model(dir, "one", 1).string()}};
  o.suites = {suite.string()};
  o.limit = 9;
  o.seed = 4;
  o.shard_index = 2;
  o.shard_count = 3;
  o.out_dir = dir / "run";
  const RunResult r = run_evaluation(o);
  const auto loaded = suites::load_suite(suite);
  const auto& split = loaded.split("test");
  const std::vector<size_t> selection = select_items(split, 9, 4, "mini");
  std::vector<std::string> ids;
  std::vector<int64_t> positions;
  for (size_t p : shard_positions(split, selection, 2, 3, 4, "mini")) {
    ids.push_back(split[selection[p]].id);
    positions.push_back(static_cast<int64_t>(p));
  }
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_EQ(r.manifest.selected_items.at("mini"), ids);
  EXPECT_EQ(r.records.size(), ids.size());
  const RunResult back = read_run(o.out_dir);
  EXPECT_EQ(back.manifest.shard.index, 2);
  EXPECT_EQ(back.manifest.shard.count, 3);
  EXPECT_EQ(back.manifest.shard.selection_size.at("mini"), 9);
  EXPECT_EQ(back.manifest.shard.positions.at("mini"), positions);
  EXPECT_EQ(back.manifest.suites[0].items_selected, 3);
  // A whole run's run.json has no "shard" (runs written before --shard read the same).
  EXPECT_FALSE(to_json(RunManifest{}).contains("shard"));
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
