// Malformed agent items give located errors from validate_agent_item (the part of suite
// validation that knows the tools and the environment), never a crash.
#include <gtest/gtest.h>

#include "tenx/suites/agentic.hpp"
#include "tenx/suites/validator.hpp"

namespace tenx::suites {
namespace {

// A real two-step item: lookup -> category over diabetes patients.
Item sample_item() {
  Item item;
  item.id = "x";
  item.task = "multi_step";
  AgentBody b;
  b.instruction = "What is the bmi category of patient 3?";
  for (const auto& t : agent::select_tools({"lookup", "category"})) b.tools.push_back(tool_to_suite(t));
  b.env.name = "patient_records";
  b.env.state = Json::parse(R"({"table": "diabetes", "fields": ["age", "bmi"],
      "patients": [{"id": 3, "age": 72, "bmi": 30.5}, {"id": 9, "age": 29, "bmi": 30}]})");
  b.gold.answer = "obese";
  b.gold.calls = {ToolCall{"lookup", Json{{"patient", 3}, {"field", "bmi"}}},
                  ToolCall{"category", Json{{"kind", "bmi"}, {"value", 30.5}}}};
  b.max_steps = 4;
  item.body = b;
  item.meta = Json{{"trajectory",
                    "<call>lookup(patient=3, field=\"bmi\")</call>\n<result>30.5</result>\n"
                    "<call>category(kind=\"bmi\", value=30.5)</call>\n<result>obese</result>\n"
                    "<answer>obese</answer>\n"}};
  return item;
}

// The problems' fields, and whether one of them has `field` with `needle` in its message.
::testing::AssertionResult has_error(const std::vector<FieldError>& errors, const std::string& field,
                                     const std::string& needle) {
  std::string all;
  for (const auto& e : errors) {
    if (e.field == field && e.message.find(needle) != std::string::npos) return ::testing::AssertionSuccess();
    all += "\n  " + e.field + ": " + e.message;
  }
  return ::testing::AssertionFailure() << "no '" << field << "' error with '" << needle << "' among:" << all;
}

TEST(AgenticValidate, AWellFormedItemHasNoProblems) {
  auto errors = validate_agent_item(sample_item());
  for (const auto& e : errors) ADD_FAILURE() << e.field << ": " << e.message;
}

TEST(AgenticValidate, UnknownToolInGoldCall) {
  Item item = sample_item();
  item.agent().gold.calls[1].name = "weather";
  EXPECT_TRUE(has_error(validate_agent_item(item), "gold/calls/1", "unknown tool \"weather\""));
}

TEST(AgenticValidate, BadArgumentTypesAndNames) {
  Item item = sample_item();
  item.agent().gold.calls[0].arguments["patient"] = "3";
  item.agent().gold.calls[1].arguments["colour"] = "red";
  item.agent().gold.calls[1].arguments.erase("kind");
  auto errors = validate_agent_item(item);
  EXPECT_TRUE(has_error(errors, "gold/calls/0/arguments/patient", "expected integer, got string"));
  EXPECT_TRUE(has_error(errors, "gold/calls/1/arguments/colour", "unknown argument"));
  EXPECT_TRUE(has_error(errors, "gold/calls/1", "missing required argument \"kind\""));
  item.agent().gold.calls[0].arguments["patient"] = Json::array();
  EXPECT_TRUE(has_error(validate_agent_item(item), "gold/calls/0/arguments/patient", "must be"));
}

TEST(AgenticValidate, EnvironmentProblemsAreLocated) {
  Item item = sample_item();
  item.agent().env.name = "hospital";
  EXPECT_TRUE(has_error(validate_agent_item(item), "env/name", "unknown environment"));
  item = sample_item();
  item.agent().env.state["patients"][1].erase("id");
  EXPECT_TRUE(has_error(validate_agent_item(item), "env/state/patients/1/id", "missing"));
  item = sample_item();
  item.agent().env.state["patients"][0]["bmi"] = true;
  EXPECT_TRUE(has_error(validate_agent_item(item), "env/state/patients/0/bmi", "number or a string"));
}

TEST(AgenticValidate, ToolProblemsAreLocated) {
  Item item = sample_item();
  item.agent().tools[0].parameters[0].type = "float";
  EXPECT_TRUE(has_error(validate_agent_item(item), "tools/0/parameters/0/type", "unknown type \"float\""));
  item = sample_item();
  item.agent().tools[1].name = "search";
  EXPECT_TRUE(has_error(validate_agent_item(item), "tools/1/name", "no tool \"search\""));
}

TEST(AgenticValidate, TrajectoryProblemsAreLocated) {
  Item item = sample_item();
  std::string t = item.meta["trajectory"];
  item.meta["trajectory"] = t.replace(t.find("30.5</result>"), 4, "31.5");
  EXPECT_TRUE(has_error(validate_agent_item(item), "meta/trajectory",
                        "line 2: result \"31.5\", but the environment returns \"30.5\""));
  item = sample_item();
  item.meta["trajectory"] = "<call>lookup(patient=3 field=\"bmi\")</call>\n<answer>x</answer>\n";
  EXPECT_TRUE(has_error(validate_agent_item(item), "meta/trajectory", "line 1, column 24"));
  item = sample_item();
  item.agent().gold.answer = "normal";
  EXPECT_TRUE(has_error(validate_agent_item(item), "meta/trajectory", "gold/answer is \"normal\""));
  item = sample_item();
  item.meta["trajectory"] = 7;
  EXPECT_TRUE(has_error(validate_agent_item(item), "meta/trajectory", "must be a string"));
}

TEST(AgenticValidate, NonAgentItemsAreNotItsBusiness) {
  Item item;
  item.body = GenerateBody{};
  EXPECT_TRUE(validate_agent_item(item).empty());
}

}  // namespace
}  // namespace tenx::suites

namespace tenx::suites {
namespace {

// The suite validator (check_item, used by `tenx suites validate` and by loading)
// runs these environment checks too: a tampered trajectory is reported.
TEST(AgenticValidation, CheckItemIncludesTheEnvironmentChecks) {
  Item item = sample_item();
  SuiteInfo info;
  info.tasks.push_back(TaskInfo{});
  info.tasks.back().name = "multi_step";
  info.tasks.back().type = ItemType::agent;
  EXPECT_TRUE(check_item(item, info).empty());
  item.meta["trajectory"] = "<call>lookup(patient=3, field=\"bmi\")</call>\n<result>99</result>\n<answer>obese</answer>\n";
  const auto errors = check_item(item, info);
  bool found = false;
  for (const auto& e : errors) found = found || e.field == "meta/trajectory";
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace tenx::suites
