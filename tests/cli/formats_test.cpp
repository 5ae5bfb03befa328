// `--formats` (#19): run and verify write exactly the report files chosen; an unknown name is a
// usage error (exit 2) that names it, before any model is loaded.
#include <gtest/gtest.h>

#include <set>

#include "cli/run_cli.hpp"
#include "eval/run_fixture.hpp"

namespace tenx::test {
namespace {

std::set<std::string> files_in(const std::filesystem::path& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

std::string finished_run(const TempDir& dir) {
  eval::RunResult run = eval::testing::paired_run(
      400, [](int i) { return i % 10 != 0; }, [](int i) { return i % 10 != 0; }, 20000000, 1000000);
  run.manifest.suites[0].path = std::string(TENX_SOURCE_DIR) + "/data/suites/reasoning";
  eval::testing::write_run_folder(run, dir.path / "run");
  return dir / "run";
}

TEST(Formats, VerifyWritesExactlyTheChosenFiles) {
  TempDir dir;
  const std::string run = finished_run(dir);
  const std::string verify = "verify --baseline big --candidate small --quiet --run " + run + " --out ";
  const CliResult some = run_tenx(verify + (dir / "some") + " --formats md,json");
  EXPECT_NE(some.code, 2) << some.err;
  EXPECT_NE(some.out.find("verdict: "), std::string::npos) << some.out;  // the verdict is printed as before
  EXPECT_EQ(files_in(dir.path / "some"), (std::set<std::string>{"report.json", "summary.md"}));

  const CliResult all = run_tenx(verify + (dir / "all"));
  EXPECT_EQ(all.code, some.code) << all.err;
  EXPECT_EQ(files_in(dir.path / "all"),
            (std::set<std::string>{"report.json", "items.csv", "summary.md", "accuracy_flops.svg",
                                   "suite_accuracy.svg", "latency_cdf.svg", "report.html"}));
  EXPECT_EQ(slurp(dir.path / "some" / "summary.md"), slurp(dir.path / "all" / "summary.md"));
}

TEST(Formats, AnUnknownFormatIsExitTwoNamingIt) {
  TempDir dir;
  const CliResult r = run_tenx("run --model m=" + (dir / "none.gguf") + " --suites reasoning --formats json,pdf --out " +
                               (dir / "out"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("tenx: error: --formats: unknown format 'pdf' (known: json, csv, md, svg, html, console, or all)"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.path / "out"));
  const CliResult v = run_tenx("verify --baseline big --candidate small --run " + finished_run(dir) +
                               " --formats svg,,xml");
  EXPECT_EQ(v.code, 2);
  EXPECT_NE(v.err.find("unknown format 'xml'"), std::string::npos) << v.err;
}

}  // namespace
}  // namespace tenx::test
