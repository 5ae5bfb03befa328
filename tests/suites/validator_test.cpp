// Malformed suites give located problems (file:line: field: problem), all of them, never a crash.
#include <gtest/gtest.h>

#include <cstdio>

#include "suite_files.hpp"
#include "tenx/suites/image.hpp"
#include "tenx/suites/suite_io.hpp"
#include "tenx/suites/validator.hpp"
#include "tenx/util/error.hpp"

namespace {

using namespace tenx::suites;
using tenx::suites::testing::TempSuite;

std::vector<std::string> problems_of(const TempSuite& s) {
  std::vector<std::string> out;
  for (const auto& p : validate_suite(s.dir())) out.push_back(p.to_string());
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& text) {
  for (const auto& s : v)
    if (s.find(text) != std::string::npos) return true;
  return false;
}

std::string dump(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

TEST(Validator, EveryBadLineIsLocated) {
  TempSuite s;
  s.write("suite.json", R"({"name": "bad", "tasks": [{"name": "qa"}, {"name": "act", "type": "agent"}]})");
  s.write("test.jsonl",
          "{\"id\":\"1\",\"task\":\"qa\",\"context\":\"Q: A:\",\"choices\":[\" a\",\" b\"],\"gold\":0}\n"  // fine
          "{\"id\":\"2\",\"task\":\"qa\",\"context\":\"Q: A:\",\"choices\":[\" a\",\" b\"],\"gold\":0\n"  // bad JSON
          "{\"id\":\"3\",\"task\":\"qa\",\"context\":\"Q: A:\",\"choices\":[\" a\",\" b\"]}\n"  // no gold
          "{\"id\":\"4\",\"task\":\"qa\",\"context\":7,\"choices\":[\" a\",\" b\"],\"gold\":0}\n"  // wrong type
          "{\"id\":\"5\",\"task\":\"qa\",\"context\":\"Q: A:\",\"choices\":[\" a\",\" b\"],\"gold\":2}\n"  // out of range
          "{\"id\":\"6\",\"task\":\"qa\",\"context\":\"<image> Q: A:\",\"choices\":[\" a\",\" b\"],\"gold\":0,"
          "\"image\":{\"h\":2,\"w\":2,\"c\":1,\"pixels\":[1,2,3]}}\n"  // image size mismatch
          "{\"id\":\"7\",\"task\":\"act\",\"type\":\"agent\",\"instruction\":\"do\",\"tools\":[{\"name\":\"calc\","
          "\"parameters\":[{\"name\":\"x\",\"type\":\"number\"}]}],\"env\":{\"name\":\"calculator\"},"
          "\"gold\":{\"answer\":\"1\",\"calls\":[{\"name\":\"search\",\"arguments\":{}}]}}\n"  // unknown tool
          "{\"id\":\"1\",\"task\":\"nope\",\"context\":\"Q: A:\",\"choices\":[\" a\",\" b\"],\"gold\":0,\"choises\":1}\n"
          "[1, 2]\n");
  auto p = problems_of(s);
  const std::string f = s.file("test.jsonl");
  EXPECT_TRUE(has(p, f + ":2: bad JSON")) << dump(p);
  EXPECT_TRUE(has(p, f + ":3: gold: missing")) << dump(p);
  EXPECT_TRUE(has(p, f + ":4: context: expected a string, got an integer")) << dump(p);
  EXPECT_TRUE(has(p, f + ":5: gold: out of range: 2 with 2 choices")) << dump(p);
  EXPECT_TRUE(has(p, f + ":6: image/pixels: size mismatch")) << dump(p);
  EXPECT_TRUE(has(p, f + ":7: gold/calls/0/name: unknown tool \"search\"")) << dump(p);
  EXPECT_TRUE(has(p, f + ":8: choises: unknown field")) << dump(p);
  EXPECT_TRUE(has(p, f + ":9: an item must be a JSON object")) << dump(p);
  EXPECT_FALSE(has(p, f + ":1:")) << dump(p);
  // line 8 has both other problems reported too
  EXPECT_TRUE(has(p, f + ":8: task: unknown task \"nope\"") || has(p, f + ":8: choises")) << dump(p);
  // and the loader stops at the first, with the same location
  try {
    load_suite(s.dir());
    FAIL() << "loaded a broken suite";
  } catch (const tenx::Error& e) {
    EXPECT_EQ(e.subject(), f + ":2");
  }
}

TEST(Validator, DuplicateIdsAcrossSplits) {
  TempSuite s;
  s.write("suite.json", tenx::suites::testing::kOneTaskSuite);
  s.write("train.jsonl", "{\"id\":\"same\",\"context\":\"Q: A:\",\"choices\":[\" a\",\" b\"],\"gold\":0}\n");
  s.write("test.jsonl", "{\"id\":\"same\",\"context\":\"Q: A:\",\"choices\":[\" a\",\" b\"],\"gold\":1}\n");
  auto p = problems_of(s);
  EXPECT_TRUE(has(p, s.file("test.jsonl") + ":1: id: duplicate id \"same\"")) << dump(p);
}

TEST(Validator, SuiteJsonProblems) {
  TempSuite s;
  s.write("suite.json", "{\"name\": \"x\",\n \"tasks\": [{\"name\": \"qa\", \"type\": \"quiz\"}],\n \"splits\": 3,\n}");
  auto p = problems_of(s);
  EXPECT_TRUE(has(p, s.file("suite.json") + ":4: bad JSON")) << dump(p);  // trailing comma on line 4
  s.write("suite.json", R"({"name": "x", "tasks": [{"name": "qa", "type": "quiz"}], "splits": 3})");
  p = problems_of(s);
  EXPECT_TRUE(has(p, s.file("suite.json") + ": tasks/0/type: unknown item type \"quiz\"")) << dump(p);
  EXPECT_TRUE(has(p, s.file("suite.json") + ": splits: expected a list, got an integer")) << dump(p);
}

TEST(Validator, RecordedHashAndCountAreChecked) {
  TempSuite s;
  SuiteInfo info;
  info.name = "h";
  info.tasks = {TaskInfo{"qa", ItemType::choice, "acc", "", 0.5, {}, {}}};
  Item item;
  item.id = "1";
  item.task = "qa";
  item.body = ChoiceBody{"Q: A:", {" a", " b"}, 0};
  write_suite(s.dir(), info, {{"test", {item}}});
  EXPECT_TRUE(problems_of(s).empty()) << dump(problems_of(s));
  s.write("test.jsonl", "{\"id\":\"1\",\"task\":\"qa\",\"context\":\"Q: A:\",\"choices\":[\" a\",\" b\"],\"gold\":1}\n");
  auto p = problems_of(s);
  EXPECT_TRUE(has(p, "splits/test/sha256: test.jsonl has SHA-256")) << dump(p);
}

TEST(Validator, MissingFolderAndFiles) {
  EXPECT_TRUE(has([] {
    std::vector<std::string> out;
    for (const auto& p : validate_suite("/nonexistent/suite")) out.push_back(p.to_string());
    return out;
  }(), "not a suite folder"));
  TempSuite s;
  EXPECT_TRUE(has(problems_of(s), "missing: a suite folder needs suite.json"));
  s.write("suite.json", R"({"name": "x", "tasks": [{"name": "qa"}], "splits": [{"name": "test"}]})");
  EXPECT_TRUE(has(problems_of(s), "test.jsonl: cannot read split file"));
}

TEST(Validator, ImageFilesInsideTheSuite) {
  TempSuite s;
  s.write("suite.json", tenx::suites::testing::kOneTaskSuite);
  Image im{2, 3, 1, 16, {0, 1, 2, 3, 4, 16}, ""};
  s.write("img/a.pgm", encode_pnm(im));
  s.write("img/plain.ppm", "P3\n# comment\n1 1\n255\n10 20 30\n");
  s.write("img/bad.pgm", "P5\n4 4\n255\nxx");
  s.write("test.jsonl",
          "{\"id\":\"1\",\"context\":\"<image> Q: A:\",\"choices\":[\" a\",\" b\"],\"gold\":0,\"image\":\"img/a.pgm\"}\n"
          "{\"id\":\"2\",\"context\":\"<image> Q: A:\",\"choices\":[\" a\",\" b\"],\"gold\":0,\"image\":{\"path\":\"img/plain.ppm\"}}\n"
          "{\"id\":\"3\",\"context\":\"<image> Q: A:\",\"choices\":[\" a\",\" b\"],\"gold\":0,\"image\":\"img/bad.pgm\"}\n"
          "{\"id\":\"4\",\"context\":\"<image> Q: A:\",\"choices\":[\" a\",\" b\"],\"gold\":0,\"image\":\"../x.png\"}\n"
          "{\"id\":\"5\",\"context\":\"Q: A:\",\"choices\":[\" a\",\" b\"],\"gold\":0,\"image\":\"img/a.pgm\"}\n");
  auto p = problems_of(s);
  const std::string f = s.file("test.jsonl");
  EXPECT_FALSE(has(p, f + ":1:")) << dump(p);
  EXPECT_FALSE(has(p, f + ":2:")) << dump(p);
  EXPECT_TRUE(has(p, f + ":3: image/path:")) << dump(p);
  EXPECT_TRUE(has(p, "truncated")) << dump(p);
  EXPECT_TRUE(has(p, f + ":4: image/path: must stay inside the suite folder")) << dump(p);
  EXPECT_TRUE(has(p, f + ":5: context: an item with an image needs the marker <image>")) << dump(p);
}

}  // namespace
