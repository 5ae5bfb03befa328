// The shipped multimodal and health suites: valid, hashes as recorded, no test item, image or
// patient row in train, and rebuilt byte for byte from data/raw and their seeds.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "shipped.hpp"
#include "suite_files.hpp"
#include "tenx/suites/generator.hpp"
#include "tenx/suites/validator.hpp"

namespace {

using namespace tenx::suites;
using namespace tenx::suites::testing;

class ShippedSuite : public ::testing::TestWithParam<std::string> {};

TEST_P(ShippedSuite, ValidatesCleanly) {
  auto problems = validate_suite(shipped_dir() / GetParam());
  for (const auto& p : problems) ADD_FAILURE() << p.to_string();
}

TEST_P(ShippedSuite, SizesAsTheIssueAsks) {
  const Suite& s = shipped(GetParam());
  // test items that are not question-only controls
  size_t real_test = 0;
  for (const auto& item : s.split("test")) real_test += !item.meta.contains("control_of");
  EXPECT_GE(real_test, 1000u);
  EXPECT_GE(s.split("train").size(), 3000u);
  EXPECT_LE(s.split("train").size(), 20000u);
  for (const auto& task : s.info.tasks) {
    EXPECT_FALSE(task.references.empty()) << task.name;
    if (task.type == ItemType::choice) {
      EXPECT_GT(task.chance, 0) << task.name;
    }
  }
}

TEST_P(ShippedSuite, NoTestItemOrImageInTrain) {
  const Suite& s = shipped(GetParam());
  std::set<std::string> train_ids, train_content, train_images;
  for (const auto& item : s.split("train")) {
    train_ids.insert(item.id);
    train_content.insert(content_hash(item));
    if (item.image) train_images.insert(image_hash(*item.image));
  }
  for (const auto& item : s.split("test")) {
    EXPECT_FALSE(train_ids.count(item.id)) << item.id;
    EXPECT_FALSE(train_content.count(content_hash(item))) << item.id;
    if (item.image) {
      EXPECT_FALSE(train_images.count(image_hash(*item.image))) << item.id;
    }
  }
}

TEST_P(ShippedSuite, NoRawRowOnBothSides) {
  // digits: meta.rows; patients: meta.table + meta.row
  const Suite& s = shipped(GetParam());
  std::set<std::string> train_rows;
  auto rows_of = [](const Item& item) {
    std::vector<std::string> out;
    if (item.meta.contains("rows"))
      for (const auto& r : item.meta["rows"]) out.push_back("digits/" + r.dump());
    if (item.meta.contains("table")) out.push_back(item.meta["table"].get<std::string>() + "/" + item.meta["row"].dump());
    if (item.meta.contains("synset")) out.push_back("wordnet/" + item.meta["synset"].get<std::string>());
    if (item.meta.contains("synsets"))
      for (const auto& r : item.meta["synsets"]) out.push_back("wordnet/" + r.get<std::string>());
    return out;
  };
  for (const auto& item : s.split("train"))
    for (const auto& r : rows_of(item)) train_rows.insert(r);
  size_t checked = 0;
  for (const auto& item : s.split("test"))
    for (const auto& r : rows_of(item)) {
      EXPECT_FALSE(train_rows.count(r)) << item.id << " uses " << r << ", also in train";
      ++checked;
    }
  EXPECT_GT(checked, 500u);
}

std::string bytes_of(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_P(ShippedSuite, RebuildIsByteIdentical) {
  // Same raw data, same seed: the same bytes, twice and as shipped.
  const GeneratorEntry* entry = nullptr;
  for (const auto& e : suite_generators())
    if (e.name == GetParam()) entry = &e;
  ASSERT_NE(entry, nullptr);
  TempSuite a, b;
  build_suite(*entry, raw_dir(), a.dir());
  build_suite(*entry, raw_dir(), b.dir());
  for (const char* f : {"suite.json", "train.jsonl", "test.jsonl"}) {
    std::string built = bytes_of(a.dir() / GetParam() / f);
    EXPECT_EQ(built, bytes_of(b.dir() / GetParam() / f)) << f;
    EXPECT_TRUE(built == bytes_of(shipped_dir() / GetParam() / f)) << f << " differs from the shipped file: run tenx suites build";
  }
}

INSTANTIATE_TEST_SUITE_P(Shipped, ShippedSuite, ::testing::Values("multimodal", "health"));

}  // namespace
