// #19 part 2: the report writers' registry, --formats parsing, the one table builder and the one
// set of number formatters. The HTML and SVG writers draw from the typed metrics in memory; the
// page they write is byte for byte the page re-rendered from the folder's report.json.
#include "tenx/eval/report/report_writer.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "eval/run_fixture.hpp"
#include "tenx/eval/report/number_format.hpp"
#include "tenx/eval/report/report.hpp"
#include "tenx/eval/report/report_html.hpp"
#include "tenx/eval/report/text_table.hpp"
#include "tenx/util/error.hpp"

namespace tenx::eval {
namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::set<std::string> files_in(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

RunResult small_run() {
  return testing::paired_run(
      40, [](int i) { return i % 4 != 0; }, [](int i) { return i % 4 != 1; }, 20000000, 1000000);
}

TEST(ReportWriters, TheRegistryListsTheSixWritersInWritingOrder) {
  std::vector<std::string> names;
  for (const ReportWriter* w : report_writers()) names.push_back(w->name());
  EXPECT_EQ(names, (std::vector<std::string>{"json", "csv", "md", "svg", "html", "console"}));
  EXPECT_EQ(report_writers()[3]->files(),
            (std::vector<std::string>{"accuracy_flops.svg", "suite_accuracy.svg", "latency_cdf.svg"}));
  EXPECT_TRUE(report_writers()[5]->files().empty());
}

TEST(ReportWriters, FormatsParseInRegistryOrderAndAnUnknownNameIsNamed) {
  EXPECT_EQ(parse_report_formats("all").size(), 6u);
  EXPECT_EQ(parse_report_formats("").size(), 6u);
  EXPECT_EQ(parse_report_formats("html,json,json"), (std::vector<std::string>{"json", "html"}));
  try {
    parse_report_formats("json,pdf");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "--formats: unknown format 'pdf' (known: json, csv, md, svg, html, console, or all)");
  }
  EXPECT_THROW(parse_report_formats(","), Error);
}

TEST(ReportWriters, OnlyTheChosenFilesAreWritten) {
  const fs::path dir = testing::fresh_dir("writers-chosen");
  ReportOptions o;
  o.formats = {"csv", "svg"};
  const Json report = write_reports(small_run(), dir, o);
  EXPECT_EQ(report["format"], kReportFormat);  // returned even when not written
  EXPECT_EQ(files_in(dir), (std::set<std::string>{"items.csv", "accuracy_flops.svg", "suite_accuracy.svg",
                                                  "latency_cdf.svg"}));
  fs::remove_all(dir);
}

TEST(ReportWriters, HtmlFromTypedMetricsEqualsHtmlReRenderedFromReportJson) {
  const fs::path dir = testing::fresh_dir("writers-html");
  VerifySpec spec;
  spec.baseline = "big";
  spec.candidates = {"small"};
  spec.margin = 0.1;
  ReportOptions o;
  o.verify = spec;
  const RunResult run = small_run();
  write_reports(run, dir / "typed", o);
  const Json report = Json::parse(read_text(dir / "typed" / "report.json"));
  write_plots_and_html(report, dir / "reread");
  for (const char* f : {"report.html", "accuracy_flops.svg", "suite_accuracy.svg", "latency_cdf.svg"})
    EXPECT_EQ(read_text(dir / "typed" / f), read_text(dir / "reread" / f)) << f;
  fs::remove_all(dir);
}

// The layout `tenx run` printed before the writers (fixed minimum widths, fmt's {:<16} ...).
TEST(ReportWriters, TheConsoleTableComesFromTheMetrics) {
  RunResult run = small_run();
  run.records[0].applicable = false;  // big's item 0 (wrong): 30 right of 39
  run.records[41].error = "did not fit";
  run.records[41].correct = run.records[41].correct_norm = false;  // small's item 1 was wrong anyway
  const std::string text = console_table(compute_metrics(run));
  EXPECT_EQ(text,
            "model            suite          items    N/A      acc  acc_norm   FLOPs/item\n"
            "big              reasoning         40      1    0.769     0.769      20.00 M\n"
            "small            reasoning         40      0    0.750     0.750       1.00 M\n"
            "  (1 items did not fit the context and count as wrong)\n");
}

TEST(TextTable, AlignsColumnsToTheWidestCell) {
  TextTable t({{"name"}, {"n", Align::right}, {"x", Align::right, 5}});
  t.add_row({"a", "1", "0.5"});
  t.add_row({"longer", "12345", "-"});
  t.add_note("  a note");
  EXPECT_EQ(t.aligned(),
            "name       n     x\n"
            "a          1   0.5\n"
            "longer 12345     -\n"
            "  a note\n");
  EXPECT_EQ(t.markdown(),
            "| name | n | x |\n"
            "|---|--:|--:|\n"
            "| a | 1 | 0.5 |\n"
            "| longer | 12345 | - |\n");
  // The claim's layout: widths in code points ("−" is one), two-space gaps, a dashed rule.
  TextTable claim({{"suite"}, {"difference"}});
  claim.add_row({"health", "\u22120.012"});
  claim.add_row({"reasoning", "+0.1"});
  EXPECT_EQ(claim.ruled(),
            "suite      difference\n"
            "---------  ----------\n"
            "health     \u22120.012\n"
            "reasoning  +0.1\n");
  EXPECT_EQ(claim.markdown_ruled(),
            "| suite     | difference |\n"
            "|-----------|------------|\n"
            "| health    | \u22120.012     |\n"
            "| reasoning | +0.1       |\n");
  TextTable centered({{"front", Align::center}});
  centered.add_row({"yes"});
  EXPECT_EQ(centered.markdown(), "| front |\n|:-:|\n| yes |\n");
  TextTable pipes({{"a|b"}});
  pipes.add_row({"x|y\nz"});
  EXPECT_EQ(pipes.markdown(), "| a\\|b |\n|---|\n| x\\|y z |\n");
  EXPECT_THROW(t.add_row({"too few"}), std::invalid_argument);
}

TEST(NumberFormat, TheExistingPrintedForms) {
  using namespace numfmt;
  EXPECT_EQ(si3(950), "950");
  EXPECT_EQ(si3(1234567), "1.23 M");
  EXPECT_EQ(si3(2.5e9), "2.5 G");
  EXPECT_EQ(si3(1e21), "1e+03 E");
  EXPECT_EQ(si3_tight(2.5e9), "2.5G");
  EXPECT_EQ(si3_tight(-4.2e3), "-4.2k");
  EXPECT_EQ(si3_tight(12), "12");
  EXPECT_EQ(count2(950), "950");
  EXPECT_EQ(count2(20000000), "20.00 M");
  EXPECT_EQ(count2(1.234e12), "1.23 T");
  EXPECT_EQ(bytes1(512), "512 B");
  EXPECT_EQ(bytes1(1.5 * 1024 * 1024), "1.5 MiB");
  EXPECT_EQ(bytes2(1.5 * 1024 * 1024), "1.50 MiB");
  EXPECT_EQ(fixed3(0.74375), "0.744");
  EXPECT_EQ(signed3(0.0123), "+0.012");
  EXPECT_EQ(signed3(-0.0123), "\u22120.012");
  EXPECT_EQ(signed3(0.0004), "0.000");
  Estimate e;
  e.value = 0.5;
  e.ci = {0.4, 0.6};
  EXPECT_EQ(estimate_ci(e), "0.500 [0.400, 0.600]");
  EXPECT_EQ(estimate_ci(std::nullopt), "N/A");
  EXPECT_EQ(confidence_level(0.95), "95%");
  EXPECT_EQ(confidence_level(0.975), "97.5%");
  EXPECT_EQ(percent1(0.1234), "12.3%");
  EXPECT_EQ(points_signed1(-0.012), "-1.2");
  EXPECT_EQ(change_signed1(0.25), "+25.0%");
  EXPECT_EQ(sig3(0.012345), "0.0123");
  EXPECT_EQ(ratio2(2.5), "2.50x");
  EXPECT_EQ(ratio2(std::nullopt), "unknown");
  EXPECT_EQ(p_value4(0.03123), "0.0312");
  EXPECT_EQ(p_value4(0.00001), "<0.0001");
  EXPECT_EQ(p_value_sci(0.00003), "3.0e-05");
  EXPECT_EQ(millis(0.0042), "4.20");
  EXPECT_EQ(millis(0.042), "42.0");
}

}  // namespace
}  // namespace tenx::eval
