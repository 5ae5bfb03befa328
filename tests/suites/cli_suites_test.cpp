// `tenx suites ...` end to end through the built binary.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

#include "shipped.hpp"
#include "suite_files.hpp"

namespace {

using namespace tenx::suites::testing;

struct CliRun {
  int code;
  std::string out;
};

CliRun run(const std::string& args) {
  std::string cmd = std::string(TENX_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  CliRun r{-1, ""};
  if (!p) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST(SuitesCli, ListAndShowTheShippedSuites) {
  CliRun list = run("suites list --suites-dir " + shipped_dir().string());
  EXPECT_EQ(list.code, 0) << list.out;
  EXPECT_NE(list.out.find("multimodal"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("health"), std::string::npos) << list.out;
  CliRun show = run("suites show health -n 1 --task clinical_bmi --suites-dir " + shipped_dir().string());
  EXPECT_EQ(show.code, 0) << show.out;
  EXPECT_NE(show.out.find("logistic_regression"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("BMI to one decimal"), std::string::npos) << show.out;
  CliRun missing = run("suites show no_such_suite --suites-dir " + shipped_dir().string());
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.out.find("tenx: error: no_such_suite: no such suite"), std::string::npos) << missing.out;
}

TEST(SuitesCli, ValidateReportsLocatedProblemsAndExits2) {
  TempSuite s;
  s.write("suite.json", kOneTaskSuite);
  s.write("test.jsonl",
          "{\"context\":\"Q: A:\",\"choices\":[\" a\",\" b\"],\"gold\":0}\n"
          "{\"context\":\"Q: A:\",\"choices\":[\" a\",\" b\"],\"gold\":5}\n"
          "not json\n");
  CliRun r = run("suites validate " + s.dir().string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find(s.file("test.jsonl") + ":2: gold: out of range: 5 with 2 choices"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(s.file("test.jsonl") + ":3: bad JSON"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 problems"), std::string::npos) << r.out;
  s.write("test.jsonl", "{\"context\":\"Q: A:\",\"choices\":[\" a\",\" b\"],\"gold\":0}\n");
  CliRun ok = run("suites validate " + s.dir().string());
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_NE(ok.out.find("ok (1 tasks, 1 items"), std::string::npos) << ok.out;
}

TEST(SuitesCli, BuildOneSuiteIntoAFolder) {
  TempSuite out;
  CliRun r = run("suites build --only health --out " + out.dir().string() + " --raw-dir " + raw_dir().string());
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("health"), std::string::npos);
  CliRun v = run("suites validate " + (out.dir() / "health").string());
  EXPECT_EQ(v.code, 0) << v.out;
  CliRun bad = run("suites build --only nothing --out " + out.dir().string());
  EXPECT_EQ(bad.code, 2) << bad.out;
}

}  // namespace
