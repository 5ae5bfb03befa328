// The patient-records environment: state from JSON, every tool's result text, errors as
// result text (never exceptions), determinism, and the scoring helpers.
#include "tenx/agent/environment.hpp"

#include <gtest/gtest.h>

#include "tenx/agent/scoring.hpp"
#include "tenx/util/error.hpp"

namespace tenx::agent {
namespace {

const char* kEnv = R"({"table": "diabetes", "fields": ["age", "bmi", "glucose", "diagnosis"],
  "patients": [{"id": 41, "age": 63, "bmi": 27.4, "glucose": 101, "diagnosis": "benign"},
               {"id": 17, "age": 59, "bmi": 32.1, "glucose": 87, "diagnosis": "malignant"}]})";

PatientRecordsEnv make_env() {
  return PatientRecordsEnv::from_json(nlohmann::json::parse(kEnv), patient_record_tools(), "env");
}

std::string run(const PatientRecordsEnv& env, const std::string& line) {
  auto call = parse_call_line(line);
  EXPECT_TRUE(call.ok()) << line;
  return env.execute(*call.value).text;
}

TEST(Environment, ListsAndLooksUp) {
  auto env = make_env();
  EXPECT_EQ(run(env, "<call>list_patients()</call>"), "17, 41");
  EXPECT_EQ(run(env, "<call>list_fields()</call>"), "age, bmi, glucose, diagnosis");
  EXPECT_EQ(run(env, R"(<call>lookup(patient=17, field="bmi")</call>)"), "32.1");
  EXPECT_EQ(run(env, R"(<call>lookup(patient=41, field="age")</call>)"), "63");
  EXPECT_EQ(run(env, R"(<call>lookup(patient=17, field="diagnosis")</call>)"), "malignant");
}

TEST(Environment, ErrorsAreResultText) {
  auto env = make_env();
  EXPECT_EQ(run(env, R"(<call>lookup(patient=99, field="age")</call>)"), "error: no patient 99");
  EXPECT_EQ(run(env, R"(<call>lookup(patient=17, field="weight")</call>)"),
            "error: no field \"weight\"");
  EXPECT_EQ(run(env, R"(<call>lookup(patient="17", field="age")</call>)"),
            "error: lookup.patient: expected integer, got string \"17\"");
  EXPECT_EQ(run(env, R"(<call>lookup(patient=17)</call>)"),
            "error: lookup: missing required argument \"field\" of lookup");
  EXPECT_EQ(run(env, R"(<call>lookup(patient=17, field="age", x=1)</call>)"),
            "error: lookup.x: unknown argument of lookup");
  EXPECT_EQ(run(env, R"(<call>category(kind="height", value=1)</call>)"),
            "error: category.kind: \"height\" is not one of \"bmi\", \"age\", \"bp\", \"chol\", "
            "\"hdl\", \"glucose\"");
  EXPECT_EQ(run(env, "<call>divide(a=1, b=0)</call>"), "error: division by zero");
  std::string unknown = run(env, "<call>weather(city=\"Paris\")</call>");
  EXPECT_EQ(unknown.rfind("error: weather: unknown tool \"weather\"", 0), 0u) << unknown;
  EXPECT_FALSE(env.execute(*parse_call_line("<call>weather()</call>").value).ok);
}

TEST(Environment, OnlyTheItemsToolsAreCallable) {
  auto env = PatientRecordsEnv::from_json(nlohmann::json::parse(kEnv), select_tools({"lookup"}),
                                          "env");
  EXPECT_EQ(run(env, "<call>add(a=1, b=2)</call>"),
            "error: add: unknown tool \"add\" (available: lookup)");
}

TEST(Environment, CategoriesAtTheirThresholds) {
  // Hand-checked against the WHO, NCEP ATP III and ADA bands in docs/tool-calls.md.
  EXPECT_EQ(*clinical_category("bmi", 18.4), "underweight");
  EXPECT_EQ(*clinical_category("bmi", 18.5), "normal");
  EXPECT_EQ(*clinical_category("bmi", 24.9), "normal");
  EXPECT_EQ(*clinical_category("bmi", 25), "overweight");
  EXPECT_EQ(*clinical_category("bmi", 30), "obese");
  EXPECT_EQ(*clinical_category("age", 39), "young");
  EXPECT_EQ(*clinical_category("age", 40), "middle");
  EXPECT_EQ(*clinical_category("age", 60), "older");
  EXPECT_EQ(*clinical_category("glucose", 99), "normal");
  EXPECT_EQ(*clinical_category("glucose", 100), "prediabetes");
  EXPECT_EQ(*clinical_category("glucose", 126), "diabetes");
  EXPECT_EQ(*clinical_category("chol", 239), "borderline");
  EXPECT_EQ(*clinical_category("chol", 240), "high");
  EXPECT_EQ(*clinical_category("hdl", 39), "low");
  EXPECT_EQ(*clinical_category("hdl", 60), "high");
  EXPECT_EQ(*clinical_category("bp", 69), "low");
  EXPECT_EQ(*clinical_category("bp", 100), "high");
  EXPECT_FALSE(clinical_category("height", 1));
  auto env = make_env();
  EXPECT_EQ(run(env, R"(<call>category(kind="bmi", value=32.1)</call>)"), "obese");
  EXPECT_EQ(run(env, R"(<call>category(kind="age", value=59)</call>)"), "middle");
}

TEST(Environment, Calculator) {
  auto env = make_env();
  EXPECT_EQ(run(env, "<call>add(a=32.1, b=4.2)</call>"), "36.3");  // not 36.300000000000004
  EXPECT_EQ(run(env, "<call>subtract(a=59, b=63)</call>"), "-4");
  EXPECT_EQ(run(env, "<call>multiply(a=2.5, b=4)</call>"), "10");
  EXPECT_EQ(run(env, "<call>divide(a=7, b=3)</call>"), "2.3333");
  EXPECT_EQ(run(env, "<call>divide(a=-1, b=30000)</call>"), "0");
  EXPECT_EQ(format_number(0.1184), "0.1184");
  EXPECT_EQ(format_number(1001), "1001");
}

TEST(Environment, MalformedStateIsLocated) {
  auto expect_error = [](const char* text, const std::string& subject) {
    try {
      PatientRecordsEnv::from_json(nlohmann::json::parse(text), patient_record_tools(), "env");
      ADD_FAILURE() << "no error for " << text;
    } catch (const Error& e) {
      EXPECT_EQ(e.subject(), subject) << e.what();
    }
  };
  expect_error(R"([1])", "env");
  expect_error(R"({"fields": [], "patients": []})", "env.table");
  expect_error(R"({"table": "t", "fields": ["a"], "patients": [{"a": 1}]})", "env.patients[0].id");
  expect_error(R"({"table": "t", "fields": ["a"], "patients": [{"id": 1}]})", "env.patients[0]");
  expect_error(R"({"table": "t", "fields": ["a"], "patients": [{"id": 1, "a": 1, "b": 2}]})",
               "env.patients[0].b");
  expect_error(R"({"table": "t", "fields": ["a"], "patients": [{"id": 1, "a": [1]}]})",
               "env.patients[0].a");
  expect_error(R"({"table": "t", "fields": ["a", "a"], "patients": []})", "env.fields[1]");
  expect_error(R"({"table": "t", "fields": ["a"], "patients": [{"id": 1, "a": 1}, {"id": 1, "a": 2}]})",
               "env.patients[1].id");
}

TEST(Environment, JsonRoundTripIsStable) {
  auto env = make_env();
  auto j = env.to_json();
  auto again = PatientRecordsEnv::from_json(nlohmann::json::parse(j.dump()), patient_record_tools(),
                                            "env");
  EXPECT_EQ(again.to_json().dump(), j.dump());
  EXPECT_EQ(j["patients"][0]["id"], 17);  // sorted by id
  EXPECT_EQ(j["patients"][0]["glucose"].dump(), "87");
}

TEST(Scoring, CallMatchInAnyOrder) {
  auto tools = patient_record_tools();
  auto c = [](const char* s) { return *parse_call_line(s).value; };
  std::vector<ToolCall> gold = {c(R"(<call>lookup(patient=1, field="age")</call>)"),
                                c(R"(<call>lookup(patient=2, field="age")</call>)")};
  std::vector<ToolCall> swapped = {gold[1], gold[0]};
  EXPECT_TRUE(match_call_sets(gold, swapped, tools).exact);
  auto partial = match_call_sets(gold, {gold[0], c("<call>add(a=1, b=2)</call>")}, tools);
  EXPECT_FALSE(partial.exact);
  EXPECT_EQ(partial.matched, 1u);
  EXPECT_EQ(partial.missing, 1u);
  EXPECT_EQ(partial.extra, 1u);
  // Value equality across integer/number; wrong type or unknown argument never matches.
  EXPECT_TRUE(call_matches(c("<call>add(a=1, b=2)</call>"), c("<call>add(b=2.0, a=1.0)</call>"), tools));
  EXPECT_FALSE(call_matches(c(R"(<call>lookup(patient=1, field="age")</call>)"),
                            c(R"(<call>lookup(patient=1.0, field="age")</call>)"), tools));
  EXPECT_FALSE(call_matches(c("<call>add(a=1, b=2)</call>"), c("<call>add(a=1, b=2, c=3)</call>"), tools));
}

TEST(Scoring, AnswersAndEpisodes) {
  EXPECT_TRUE(answers_match("Obese", " obese "));
  EXPECT_TRUE(answers_match("59, 48", "59,48.0"));
  EXPECT_FALSE(answers_match("59, 48", "48, 59"));
  EXPECT_FALSE(answers_match("11", "11 years"));
  EXPECT_TRUE(answers_match("2.3333", "2.33330"));
  auto tools = patient_record_tools();
  auto lookup = *parse_call_line(R"(<call>lookup(patient=1, field="age")</call>)").value;
  auto fields = *parse_call_line("<call>list_fields()</call>").value;
  EXPECT_TRUE(episode_success({lookup}, "63", {fields, lookup}, "63", tools));
  EXPECT_FALSE(episode_success({lookup}, "63", {fields}, "63", tools));
  EXPECT_FALSE(episode_success({lookup}, "63", {lookup}, "64", tools));
  EXPECT_TRUE(episode_success({}, "none", {}, "none", tools));
  EXPECT_FALSE(episode_success({}, "none", {fields}, "none", tools));
}

}  // namespace
}  // namespace tenx::agent
