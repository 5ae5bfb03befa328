// util/json_fields (#19 part 4): every problem kind gives the exact `FILE: FIELD: problem` text,
// and the collecting reader records every problem instead of stopping at the first.
#include "tenx/util/json_fields.hpp"

#include <gtest/gtest.h>

#include "tenx/util/error.hpp"

namespace tenx {
namespace {

using Json = JsonFields::Json;
using Need = JsonFields::Need;

template <class F>
std::string error_of(F&& read) {
  try {
    read();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(JsonFields, EachProblemKindHasOneWording) {
  const JsonFields f("report.json");
  const Json doc = Json::parse(R"({"metrics": {"suites": [{}, {}, {}, {"n": "7", "k": 9, "x": 1.5, "neg": -2,
                                   "big": 18446744073709551615, "list": ["a", 3], "obj": 1}]}})");
  const Json& g = doc["metrics"]["suites"][3];
  const std::string at = f.element(f.field(f.field("", "metrics"), "suites"), 3);
  EXPECT_EQ(at, "metrics.suites[3]");
  EXPECT_EQ(error_of([&] { f.number(g, at, "accuracy", Need::required); }),
            "report.json: metrics.suites[3].accuracy: missing");
  EXPECT_EQ(error_of([&] { f.integer(g, at, "n", Need::required); }),
            "report.json: metrics.suites[3].n: expected an integer, got a string");
  EXPECT_EQ(error_of([&] { f.integer(g, at, "k", Need::required, 1, 4); }),
            "report.json: metrics.suites[3].k: out of range: 9 not in [1, 4]");
  EXPECT_EQ(error_of([&] { f.integer(g, at, "neg", Need::required, 0); }),
            "report.json: metrics.suites[3].neg: out of range: -2 is below 0");
  EXPECT_EQ(error_of([&] { f.integer(g, at, "big", Need::required, 0); }),
            "report.json: metrics.suites[3].big: out of range: 18446744073709551615 is above 9223372036854775807");
  EXPECT_EQ(error_of([&] { f.unsigned_integer(g, at, "neg", Need::required); }),
            "report.json: metrics.suites[3].neg: out of range: -2 is negative");
  EXPECT_EQ(error_of([&] { f.number(g, at, "x", Need::required, 0.0, 1.0); }),
            "report.json: metrics.suites[3].x: out of range: 1.5 not in [0, 1]");
  EXPECT_EQ(error_of([&] { f.boolean(g, at, "x", Need::required); }),
            "report.json: metrics.suites[3].x: expected true or false, got a number with a fraction");
  EXPECT_EQ(error_of([&] { f.strings(g, at, "list", Need::required); }),
            "report.json: metrics.suites[3].list[1]: expected a string, got an integer");
  EXPECT_EQ(error_of([&] { f.object(g, at, "obj", Need::required); }),
            "report.json: metrics.suites[3].obj: expected an object, got an integer");
  EXPECT_EQ(error_of([&] { f.no_unknown_keys(g, at, {"n", "k", "x", "neg", "big", "list"}); }),
            "report.json: metrics.suites[3].obj: unknown field");
  EXPECT_EQ(error_of([&] { f.string(Json::parse(R"({"s": ""})"), "", "s", Need::required, true); }),
            "report.json: s: must not be empty");
  EXPECT_EQ(JsonFields::out_of_open_range(0.7, 0.0, 0.5), "out of range: 0.7 not in (0, 0.5)");
}

TEST(JsonFields, AbsentOptionalAndNullableFieldsAreNotProblems) {
  const JsonFields f("plan.json");
  const Json j = Json::parse(R"({"a": null})");
  EXPECT_FALSE(f.number(j, "", "missing", Need::optional));
  EXPECT_FALSE(f.number(j, "", "a", Need::nullable));
  EXPECT_EQ(error_of([&] { f.number(j, "", "a", Need::optional); }), "plan.json: a: expected a number, got null");
}

TEST(JsonFields, TheCollectorRecordsEveryProblemWithSlashedPaths) {
  std::vector<FieldProblem> problems;
  const JsonFields f("", problems, JsonFields::Paths::slashed);
  const Json item = Json::parse(R"({"context": 3, "choices": [" a", 2], "choises": 1})");
  EXPECT_FALSE(f.string(item, "", "context", Need::required));
  EXPECT_FALSE(f.integer(item, "", "gold", Need::required, 0, 1));
  EXPECT_FALSE(f.strings(item, "", "choices", Need::required));
  f.no_unknown_keys(item, "", {"context", "choices", "gold"});
  ASSERT_EQ(problems.size(), 4u);
  EXPECT_EQ(problems[0].field + ": " + problems[0].message, "context: expected a string, got an integer");
  EXPECT_EQ(problems[1].field + ": " + problems[1].message, "gold: missing");
  EXPECT_EQ(problems[2].field + ": " + problems[2].message, "choices/1: expected a string, got an integer");
  EXPECT_EQ(problems[3].field + ": " + problems[3].message, "choises: unknown field");
  EXPECT_EQ(f.problem_count(), 4u);
}

}  // namespace
}  // namespace tenx
