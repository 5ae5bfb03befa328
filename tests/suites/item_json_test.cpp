// Items and suite.json to JSON and back; lm-evaluation-harness style files load as they are.
#include <gtest/gtest.h>

#include "suite_files.hpp"
#include "tenx/suites/suite_io.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/sha256.hpp"

namespace {

using namespace tenx::suites;
using tenx::suites::testing::TempSuite;

Item sample_agent_item() {
  Item item;
  item.id = "a1";
  item.task = "lookup";
  AgentBody b;
  b.instruction = "What is the BMI of patient 3?";
  b.tools = {Tool{"get_patient", "look up a patient", {ToolParam{"row", "integer", "row number", true, {}}}},
             Tool{"finish", "give the answer", {ToolParam{"answer", "string", "", true, {}}}}};
  b.env = AgentEnv{"patients", Json{{"table", "diabetes"}}};
  b.gold.answer = "32.1";
  b.gold.calls = {ToolCall{"get_patient", Json{{"row", 3}}}};
  b.max_steps = 4;
  item.body = b;
  return item;
}

TEST(ItemJson, ChoiceRoundTripIsByteStable) {
  Item item;
  item.id = "x-1";
  item.task = "qa";
  item.difficulty = 2;
  item.meta = Json{{"row", 5}};
  item.body = ChoiceBody{"Q: Even or odd? A:", {" even", " odd"}, 1};
  std::string line = item_to_line(item);
  EXPECT_EQ(line,
            R"({"id":"x-1","task":"qa","type":"choice","difficulty":2,"context":"Q: Even or odd? A:","choices":[" even"," odd"],"gold":1,"meta":{"row":5}})");
  Item back = item_from_json(Json::parse(line));
  EXPECT_EQ(item_to_line(back), line);
}

TEST(ItemJson, GenerateAndAgentRoundTrip) {
  Item g;
  g.id = "g";
  g.task = "math";
  g.body = GenerateBody{"Q: 2+2? A:", {"4", "4.0"}, {"\n"}, 4, MatchKind::numeric, 0.5};
  EXPECT_EQ(item_to_line(item_from_json(item_to_json(g))), item_to_line(g));
  Item a = sample_agent_item();
  Item back = item_from_json(item_to_json(a));
  EXPECT_EQ(item_to_line(back), item_to_line(a));
  EXPECT_EQ(back.agent().tools[0].parameters[0].type, "integer");
  EXPECT_EQ(back.agent().gold.calls[0].arguments["row"], 3);
}

TEST(ItemJson, InlineImageRoundTrip) {
  Item item;
  item.id = "i";
  item.task = "see";
  item.body = ChoiceBody{"<image> Q: ? A:", {" a", " b"}, 0};
  item.image = Image{2, 2, 1, 16, {0, 16, 8, 4}, ""};
  Item back = item_from_json(Json::parse(item_to_line(item)));
  ASSERT_TRUE(back.image.has_value());
  EXPECT_EQ(back.image->max, 16);
  EXPECT_EQ(back.image->at(1, 0), 8);
}

TEST(ItemJson, TypeDefaultsToChoiceLikeLmEvaluationHarness) {
  TempSuite s;
  s.write("suite.json", tenx::suites::testing::kOneTaskSuite);
  s.write("test.jsonl",
          "{\"context\": \"Q: Sky colour? A:\", \"choices\": [\" blue\", \" green\"], \"gold\": 0}\n"
          "{\"context\": \"Q: Grass colour? A:\", \"choices\": [\" blue\", \" green\"], \"gold\": 1}\n");
  Suite suite = load_suite(s.dir());
  const auto& items = suite.split("test");
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].type(), ItemType::choice);
  EXPECT_EQ(items[0].task, "qa");       // the only task
  EXPECT_EQ(items[1].id, "test-2");     // <split>-<line>
  EXPECT_EQ(items[1].choice().gold, 1);
}

TEST(ItemJson, WriterRecordsCountsAndHashes) {
  TempSuite s;
  SuiteInfo info;
  info.name = "w";
  info.tasks = {TaskInfo{"qa", ItemType::choice, "acc", "", 0.5, {Reference{"majority", 3, 4}}}};
  Item item;
  item.id = "1";
  item.task = "qa";
  item.body = ChoiceBody{"Q: A:", {" a", " b"}, 0};
  Item item2 = item;
  item2.id = "2";
  auto written = write_suite(s.dir(), info, {{"test", {item}}, {"train", {item2}}});
  ASSERT_EQ(written.splits.size(), 2u);
  EXPECT_EQ(written.splits[0].name, "train");  // train, dev, test order
  EXPECT_EQ(written.splits[1].items, 1);
  EXPECT_EQ(written.splits[1].sha256, tenx::sha256_hex(item_to_line(item) + "\n"));
  Suite loaded = load_suite(s.dir());
  EXPECT_EQ(loaded.info.tasks[0].references[0].score(), 0.75);
  EXPECT_EQ(loaded.split("train")[0].id, "2");
  // the text of the score is one division of integers, the same everywhere
  EXPECT_NE(suite_info_to_json(loaded.info).dump().find("\"score\":0.75"), std::string::npos);
}

TEST(ItemJson, ErrorsNameTheField) {
  try {
    item_from_json(Json::parse(R"({"id":"1","task":"t","context":"c","choices":[" a"," b"],"gold":"0"})"));
    FAIL() << "no error";
  } catch (const tenx::Error& e) {
    EXPECT_EQ(e.subject(), "gold");
    EXPECT_NE(e.detail().find("expected an integer"), std::string::npos);
  }
}

}  // namespace
