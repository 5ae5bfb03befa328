// The reasoning suite's splits: deterministic bytes, the shipped files equal a fresh build,
// no test item (by id or by content hash) in train, test size, chance levels and references.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "tenx/suites/reasoning.hpp"
#include "tenx/suites/suite_io.hpp"
#include "tenx/util/sha256.hpp"

namespace tenx::suites {
namespace {

const std::filesystem::path kRaw = std::filesystem::path(TENX_SOURCE_DIR) / "data" / "raw";

std::string question_hash(const Item& item) {
  Sha256 h;
  h.update(item.type() == ItemType::choice ? item.choice().context : item.generate().prompt);
  return h.hex();
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(ReasoningSplits, SameSeedSameBytesOtherSeedOtherItems) {
  auto a = build_reasoning_suite({kRaw, kReasoningSeed});
  auto b = build_reasoning_suite({kRaw, kReasoningSeed});
  auto c = build_reasoning_suite({kRaw, kReasoningSeed + 1});
  for (const char* split : {"train", "test"}) {
    EXPECT_EQ(split_to_jsonl(a.splits.at(split)), split_to_jsonl(b.splits.at(split))) << split;
    EXPECT_NE(split_to_jsonl(a.splits.at(split)), split_to_jsonl(c.splits.at(split))) << split;
  }
}

TEST(ReasoningSplits, ShippedFilesAreAFreshBuild) {
  const auto dir = std::filesystem::path(TENX_SOURCE_DIR) / "data" / "suites" / "reasoning";
  ASSERT_TRUE(std::filesystem::exists(dir / "suite.json")) << "run: tenx suites build --only reasoning";
  auto fresh = build_reasoning_suite({kRaw, kReasoningSeed});
  for (const char* split : {"train", "test"})
    EXPECT_EQ(read_file(dir / (std::string(split) + ".jsonl")), split_to_jsonl(fresh.splits.at(split)))
        << split << ".jsonl is stale: run `tenx suites build --only reasoning`";
  Suite shipped = load_suite(dir);  // also checks recorded counts and SHA-256
  EXPECT_EQ(shipped.info.tasks.size(), fresh.info.tasks.size());
}

TEST(ReasoningSplits, TestItemsNeverAppearInTrain) {
  auto suite = build_reasoning_suite({kRaw, kReasoningSeed});
  const auto& train = suite.splits.at("train");
  const auto& test = suite.splits.at("test");
  EXPECT_GE(test.size(), 1000u);
  std::set<std::string> ids, train_hashes;
  for (const auto& item : train) {
    EXPECT_TRUE(ids.insert(item.id).second) << item.id;
    train_hashes.insert(question_hash(item));
  }
  EXPECT_EQ(train_hashes.size(), train.size()) << "train items repeat";
  for (const auto& item : test) {
    EXPECT_TRUE(ids.insert(item.id).second) << item.id;
    EXPECT_FALSE(train_hashes.count(question_hash(item))) << item.id << " is also in train";
  }
}

TEST(ReasoningSplits, ChanceAndMajorityReferenceAreRecorded) {
  auto suite = build_reasoning_suite({kRaw, kReasoningSeed});
  auto answer = [](const Item& i) {
    return i.type() == ItemType::choice ? i.choice().choices[i.choice().gold] : i.generate().targets[0];
  };
  for (const auto& task : suite.info.tasks) {
    std::map<std::string, int> train_counts;
    std::set<std::string> vocabulary;
    for (const auto& i : suite.splits.at("train"))
      if (i.task == task.name) ++train_counts[answer(i)], vocabulary.insert(answer(i));
    std::string majority;
    for (const auto& [a, n] : train_counts)
      if (majority.empty() || n > train_counts[majority]) majority = a;
    std::int64_t correct = 0, total = 0;
    for (const auto& i : suite.splits.at("test")) {
      if (i.task != task.name) continue;
      ++total;
      correct += answer(i) == majority;
      vocabulary.insert(answer(i));
    }
    ASSERT_EQ(task.references.size(), 1u) << task.name;
    EXPECT_EQ(task.references[0].name, "majority");
    EXPECT_EQ(task.references[0].correct, correct) << task.name;
    EXPECT_EQ(task.references[0].total, total) << task.name;
    if (task.type == ItemType::choice) {
      EXPECT_TRUE(task.chance == 0.5 || task.chance == 0.25) << task.name;
    } else {
      EXPECT_DOUBLE_EQ(task.chance, 1.0 / static_cast<double>(vocabulary.size())) << task.name;
    }
  }
}

}  // namespace
}  // namespace tenx::suites
