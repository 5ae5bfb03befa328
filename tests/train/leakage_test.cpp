// Nothing from a test split touches the shipped models' training (docs/models.md).
// The training texts are loaded exactly as the trainer loads them
// (load_suite_texts on the shipped recipes), and checked against every item of
// each suite's test split: no shared item id, and no shared content, by SHA-256
// of the rendered prompt and answer plus the image's pixels (so a test item
// copied under another id is caught too, and the digit and scene images count
// as content). A positive control trains "on the test split" and must be caught.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tenx/suites/suite.hpp"
#include "tenx/suites/suite_io.hpp"
#include "tenx/train/data.hpp"
#include "tenx/train/recipe.hpp"
#include "tenx/util/sha256.hpp"

namespace tenx::train {
namespace {

namespace fs = std::filesystem;

const fs::path kRoot = TENX_SOURCE_DIR;
const fs::path kLeakageSuites = kRoot / "data" / "suites";
const std::vector<std::string> kRecipes = {"baseline", "compact"};

void hash_field(Sha256& h, std::string_view s) {
  const uint64_t n = s.size();  // length-prefixed: ("ab", "c") and ("a", "bc") differ
  h.update(&n, sizeof n);
  h.update(s);
}

void hash_image(Sha256& h, const suites::Image* image) {
  if (!image) return hash_field(h, "no image");
  const int32_t dims[4] = {image->h, image->w, image->c, image->max};
  h.update(dims, sizeof dims);
  h.update(image->pixels.data(), image->pixels.size());
}

// What the model sees and learns: prompt, answer, image.
std::string content_hash(const TextExample& ex) {
  Sha256 h;
  hash_field(h, ex.prompt);
  hash_field(h, ex.answer);
  hash_image(h, ex.image.get());
  return h.hex();
}

struct Hashes {
  std::set<std::string> content;
  size_t n = 0;
};

// Every training (and dev: also drawn from the train split) example of a recipe, as the trainer loads them.
std::map<std::string, Hashes> training_hashes(const Recipe& recipe) {
  std::map<std::string, Hashes> out;
  for (const SuiteTexts& st : load_suite_texts(recipe, kLeakageSuites)) {
    Hashes& h = out[st.name];
    for (const auto* part : {&st.train, &st.dev})
      for (const TextExample& ex : *part) {
        h.content.insert(content_hash(ex));
        ++h.n;
      }
  }
  return out;
}

struct Overlap {
  size_t ids = 0, contents = 0, tested = 0;
  std::set<std::string> content_ids;  // test items whose content is trained on
};

// Known, documented overlap: none. (Until the suite builder deduplicated agent items by their
// rendered prompt and trajectory, five irrelevance test items rendered to the text of training
// items that differed only in hidden patient rows.) Any overlap found fails the test.
const std::map<std::string, std::set<std::string>> kKnownContentOverlap = {};

Overlap test_overlap(const suites::Suite& suite, const std::string& training_split, const Hashes& train) {
  std::set<std::string> train_ids;
  for (const suites::Item& item : suite.split(training_split)) train_ids.insert(item.id);
  Overlap o;
  for (const suites::Item& item : suite.split("test")) {
    const TextExample ex = render_item(item);
    const bool id = train_ids.contains(item.id), content = train.content.contains(content_hash(ex));
    o.ids += id;
    o.contents += content;
    if (content) o.content_ids.insert(item.id);
    ++o.tested;
  }
  return o;
}

class Leakage : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!fs::exists(kLeakageSuites / "reasoning" / "suite.json")) GTEST_SKIP() << "no shipped suites at " << kLeakageSuites;
  }
};

TEST_P(Leakage, NoTestItemInTraining) {
  // The recipes' data blocks are equal (CompactHoldsOutTheBaselinesDevItems), so the
  // sanitizer build, ~10x slower, checks the baseline's texts only.
  if (std::getenv("TENX_SANITIZER_BUILD") && GetParam() != "baseline")
    GTEST_SKIP() << "sanitizer build: the " << GetParam() << " recipe's data equals the baseline's";
  const Recipe recipe = load_recipe((kRoot / "data" / "recipes" / (GetParam() + ".json")).string());
  EXPECT_EQ(recipe.split, "train");
  const std::map<std::string, Hashes> train = training_hashes(recipe);
  ASSERT_EQ(train.size(), 4u) << "the shipped pair trains on all four suites";
  for (const RecipeSuite& rs : recipe.suites) {
    const suites::Suite suite = suites::load_suite(suites::resolve_suite(rs.suite, kLeakageSuites));
    const Hashes& h = train.at(suite.info.name);
    ASSERT_GT(h.n, 1000u) << suite.info.name;
    const Overlap o = test_overlap(suite, recipe.split, h);
    EXPECT_GT(o.tested, 1000u) << suite.info.name;
    EXPECT_EQ(o.ids, 0u) << suite.info.name << ": test ids among the training ids";
    const auto known = kKnownContentOverlap.find(suite.info.name);
    EXPECT_EQ(o.content_ids, known == kKnownContentOverlap.end() ? std::set<std::string>{} : known->second)
        << suite.info.name << ": test items whose rendered prompt, answer and image are trained on";
  }
}

INSTANTIATE_TEST_SUITE_P(ShippedRecipes, Leakage, ::testing::ValuesIn(kRecipes));

// The compact's dev items are the baseline's (same seed and fraction): its teacher
// never trained on what the compact is evaluated on during training.
TEST(LeakageRecipes, CompactHoldsOutTheBaselinesDevItems) {
  if (!fs::exists(kLeakageSuites / "reasoning" / "suite.json")) GTEST_SKIP() << "no shipped suites at " << kLeakageSuites;
  const Recipe base = load_recipe((kRoot / "data" / "recipes" / "baseline.json").string());
  const Recipe compact = load_recipe((kRoot / "data" / "recipes" / "compact.json").string());
  EXPECT_EQ(base.seed, compact.seed);
  EXPECT_EQ(base.dev_fraction, compact.dev_fraction);
  EXPECT_EQ(base.split, compact.split);
  ASSERT_EQ(base.suites.size(), compact.suites.size());
  for (size_t i = 0; i < base.suites.size(); ++i) {
    EXPECT_EQ(base.suites[i].suite, compact.suites[i].suite);
    EXPECT_EQ(base.suites[i].tasks, compact.suites[i].tasks);
    EXPECT_EQ(base.suites[i].max_items, compact.suites[i].max_items);
  }
}

// The check can fail: a recipe that trains on the test split is caught by ids
// and by contents, item for item.
TEST(LeakageControl, TrainingOnTheTestSplitIsCaught) {
  if (!fs::exists(kLeakageSuites / "health" / "suite.json")) GTEST_SKIP() << "no shipped suites at " << kLeakageSuites;
  const Recipe leaky = parse_recipe(R"({"name": "leaky", "seed": 1, "output": "leaky.gguf",
      "model": {"dim": 8, "layers": 1, "heads": 2, "kv_heads": 2, "ffn": 8, "vocab": 300, "ctx": 8},
      "data": {"suites": [{"suite": "health"}], "split": "test", "dev_fraction": 0.02},
      "optimizer": {"steps": 1, "batch": 1, "seq_len": 8}})",
                                    "leaky.json");
  const std::map<std::string, Hashes> train = training_hashes(leaky);
  const suites::Suite suite = suites::load_suite(kLeakageSuites / "health");
  const Overlap o = test_overlap(suite, leaky.split, train.at("health"));
  EXPECT_EQ(o.tested, suite.split("test").size());
  EXPECT_EQ(o.ids, o.tested);
  EXPECT_EQ(o.contents, o.tested);
}

}  // namespace
}  // namespace tenx::train
