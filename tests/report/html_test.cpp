// report.html from a constructed report.json, checked in a real browser: headless Chromium
// (Debian package chromium) takes a screenshot and dumps the DOM. The screenshot must not be
// blank and must show the verdict banner's colour and the plots' first palette colour; the DOM
// must hold the verdict and the plots' elements; the browser log must have no console message
// (a probe page with a deliberate error proves the log check can fail). Skips when Chromium is
// not installed.
#include <gtest/gtest.h>
#include <stb/stb_image.h>

#include <cstdlib>
#include <filesystem>

#include "cli/run_cli.hpp"
#include "report/report_fixture.hpp"
#include "tenx/eval/report/report_html.hpp"

namespace tenx::eval {
namespace {

namespace fs = std::filesystem;

std::string chromium_binary() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"})
    if (fs::exists(p)) return p;
  return {};
}

// Runs headless Chromium on `page` with extra flags; stdout to out, stderr (the log) to log.
// As root Chromium needs --no-sandbox; a fresh profile keeps runs independent; `timeout` bounds it.
int run_chromium(const std::string& chromium, const fs::path& profile, const std::string& flags,
                 const fs::path& page, const fs::path& out, const fs::path& log) {
  const std::string cmd = "timeout 120 " + chromium +
                          " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run"
                          " --hide-scrollbars --enable-logging=stderr --v=0 --user-data-dir=" +
                          profile.string() + " " + flags + " file://" + fs::absolute(page).string() + " > " +
                          out.string() + " 2> " + log.string();
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Lines of the browser log that are console messages or uncaught exceptions of the page.
std::string console_lines(const std::string& log) {
  std::string found;
  std::size_t start = 0;
  while (start < log.size()) {
    std::size_t end = log.find('\n', start);
    if (end == std::string::npos) end = log.size();
    const std::string line = log.substr(start, end - start);
    if (line.find(":CONSOLE") != std::string::npos || line.find("Uncaught") != std::string::npos)
      found += line + "\n";
    start = end + 1;
  }
  return found;
}

Json constructed_report() {
  using test::make_group;
  const std::vector<test::FixtureModel> models{{"big"}, {"small <q4>"}, {"tiny"}};
  std::vector<test::FixtureGroup> groups{
      make_group("big", "reasoning", 200, 150, 1e11, 0.08, 0.002),
      make_group("big", "health", 120, 96, 1.2e11, 0.09, 0.002),
      make_group("small <q4>", "reasoning", 200, 146, 9e9, 0.012, 0.0004),
      make_group("small <q4>", "health", 120, 94, 1.1e10, 0.013, 0.0004),
      make_group("tiny", "reasoning", 200, 90, 1e9, 0.002, 0.0001),
      make_group("tiny", "health", 120, 60, 1.1e9, 0.002, 0.0001)};
  auto mm = make_group("tiny", "multimodal", 50, 0, 1e9);
  mm.applicable = false;  // no projector: N/A, drawn as a label
  groups.push_back(mm);
  groups.push_back(make_group("big", "multimodal", 50, 30, 1e11));
  groups.push_back(make_group("small <q4>", "multimodal", 50, 28, 1e10));
  // A verdict in report.json's shape (claim.cpp's to_json(ClaimVerdict)).
  Json suite = {{"suite", "reasoning"}, {"applicable", true}, {"items_paired", 200}, {"items_excluded", 0},
                {"explanation", "reasoning: the candidate is at most 1.9 points worse (95% CI), within 3 points."},
                {"verdict", "SUPPORTED"}, {"candidate_accuracy", 0.73}, {"baseline_accuracy", 0.75},
                {"difference", -0.02}, {"difference_ci", {{"lower", -0.019}, {"upper", 0.01}}},
                {"difference_method", "paired_bootstrap_stratified_by_task"}, {"newcombe_ci", nullptr},
                {"table", {{"a", 140}, {"b", 6}, {"c", 10}, {"d", 44}}}, {"mcnemar_p", 0.45}, {"items_needed", 180}};
  Json verdict = {{"baseline", "big"}, {"candidates", {"small <q4>"}}, {"margin", 0.03}, {"min_ratio", 10},
                  {"confidence", 0.95}, {"bootstrap_resamples", 10000}, {"seed", 1}, {"verdict", "SUPPORTED"},
                  {"exit_code", 0}};
  verdict["comparisons"] = Json::array();
  verdict["comparisons"].push_back(
      {{"candidate", "small <q4>"}, {"baseline", "big"}, {"verdict", "SUPPORTED"},
       {"explanation", "SUPPORTED: small <q4> matches big on every suite at 10.9x fewer FLOPs per item."},
       {"suites", {suite}},
       {"compute", {{"baseline_flops_per_item", 1.1e11}, {"candidate_flops_per_item", 1e10}, {"flops_ratio", 10.9},
                    {"min_ratio", 10}, {"flops_ratio_holds", true},
                    {"flops_explanation", "compute: 10.9x fewer FLOPs per item (at least 10x needed)."},
                    {"latency_ratio", 6.5}, {"latency_ratio_ci", {{"lower", 6.1}, {"upper", 6.9}}},
                    {"peak_memory_ratio", 3.2}, {"weight_bytes_ratio", 8.0}, {"training_flops_ratio", nullptr},
                    {"training_flops_estimated", false}}}});
  return test::fixture_report(models, groups, verdict);
}

// The constructed report as format 2 (#16): an UNINFORMATIVE verdict with assay-sensitivity tests,
// tasks at the baseline's references, blind-control lifts, a left-out suite and a plan.
Json format2_report() {
  Json r = constructed_report();
  r["format"] = 2;
  Json& v = r["verdict"];
  v["verdict"] = "UNINFORMATIVE";
  v["exit_code"] = 5;
  v["left_out"] = {"agentic"};
  v["plan"] = {{"path", "claims/small.plan.json"}, {"sha256", std::string(64, 'c')}};
  Json& c = v["comparisons"][0];
  c["verdict"] = "UNINFORMATIVE";
  Json& s = c["suites"][0];
  s["verdict"] = "UNINFORMATIVE";
  s["informative"] = false;
  s["assay"] = {{{"against", "trivial references"}, {"references", "majority (2 tasks)"}, {"items", 200},
                 {"baseline", 0.75}, {"reference", 0.74}, {"gain", 0.01}, {"ci", {{"lower", -0.05}, {"upper", 0.07}}},
                 {"p_value", 0.37}, {"passed", false}}};
  s["uninformative_tasks"] = {"babi_yes_no", "table_compare"};
  s["controls"] = {{{"model", "big"}, {"task", "digits"}, {"image_accuracy", 0.9}, {"blind_accuracy", 0.5},
                    {"lift", 0.4}, {"lift_ci", {{"lower", 0.33}, {"upper", 0.46}}}, {"pairs", 200}},
                   {{"model", "small <q4>"}, {"task", "digits"}, {"image_accuracy", nullptr},
                    {"blind_accuracy", 0.5}, {"lift", nullptr}, {"lift_ci", nullptr}, {"pairs", 0}}};
  return r;
}

TEST(ReportHtml, Format2VerdictSections) {
  test::TempDir dir;
  write_plots_and_html(format2_report(), dir.path);
  const std::string html = test::slurp(dir.path / "report.html");
  for (const char* id : {"id=\"verdict-label\">UNINFORMATIVE<", "verdict-uninformative", "id=\"assay-table\"",
                         "id=\"uninformative-tasks\"", "id=\"control-table\"", "id=\"left-out\"", "id=\"plan\""})
    EXPECT_NE(html.find(id), std::string::npos) << id;
  EXPECT_NE(html.find("<td>+1.0</td><td>-5.0 to +7.0 pts</td><td>0.37</td><td class=\"l\">does not beat them</td>"),
            std::string::npos);
  EXPECT_NE(html.find("babi_yes_no, table_compare"), std::string::npos);
  EXPECT_NE(html.find("<td>90.0%</td><td>50.0%</td><td>+40.0</td><td>+33.0 to +46.0 pts</td><td>200</td>"),
            std::string::npos);
  EXPECT_NE(html.find("<td class=\"l\">small &lt;q4&gt;</td><td class=\"l\">digits</td><td>N/A</td>"),
            std::string::npos);  // no projector: the image accuracy is N/A, never 0
  EXPECT_NE(html.find(std::string(64, 'c')), std::string::npos);
  // A format-1 verdict (the constructed report) has none of these sections.
  test::TempDir old;
  write_plots_and_html(constructed_report(), old.path);
  const std::string v1 = test::slurp(old.path / "report.html");
  EXPECT_EQ(v1.find("id=\"assay\""), std::string::npos);
  EXPECT_EQ(v1.find("id=\"controls\""), std::string::npos);

  const std::string chromium = chromium_binary();
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed; the format-2 page was not rendered";
  const fs::path page = dir.path / "report.html";
  ASSERT_EQ(run_chromium(chromium, dir.path / "profile", "--dump-dom", page, dir.path / "dom.html",
                         dir.path / "dom.log"),
            0)
      << test::slurp(dir.path / "dom.log");
  const std::string dom = test::slurp(dir.path / "dom.html");
  EXPECT_NE(dom.find("id=\"verdict-label\">UNINFORMATIVE</h2>"), std::string::npos);
  for (const char* id : {"id=\"assay-table\"", "id=\"control-table\"", "id=\"uninformative-tasks\"", "id=\"plan\""})
    EXPECT_NE(dom.find(id), std::string::npos) << id;
  EXPECT_EQ(console_lines(test::slurp(dir.path / "dom.log")), "");
}

TEST(ReportHtml, WritesSelfContainedPageAndPlots) {
  test::TempDir dir;
  write_plots_and_html(constructed_report(), dir.path);
  for (const char* f : {"report.html", "accuracy_flops.svg", "suite_accuracy.svg", "latency_cdf.svg"})
    EXPECT_TRUE(fs::exists(dir.path / f)) << f;
  const std::string html = test::slurp(dir.path / "report.html");
  for (const char* id : {"id=\"verdict\"", "id=\"verdict-label\">SUPPORTED<", "id=\"suite-table\"",
                         "id=\"comparison-table\"", "id=\"compute-ratio-table\"", "id=\"model-table\"",
                         "id=\"latency-table\"", "id=\"environment-table\"", "id=\"plot-accuracy-flops\"",
                         "id=\"plot-suite-accuracy\"", "id=\"plot-latency-cdf\"", "id=\"pareto-front\""})
    EXPECT_NE(html.find(id), std::string::npos) << id;
  // Self-contained: no script, no external resource; names escaped.
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));  // only the SVG namespace
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("small <q4>"), std::string::npos);
  EXPECT_NE(html.find("small &lt;q4&gt;"), std::string::npos);
  // Deterministic: the same report gives the same bytes.
  test::TempDir again;
  write_plots_and_html(constructed_report(), again.path);
  EXPECT_EQ(test::slurp(again.path / "report.html"), html);
}

TEST(ReportHtml, RendersInHeadlessChromium) {
  const std::string chromium = chromium_binary();
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (apt-get install chromium); report.html not rendered";
  test::TempDir dir;
  write_plots_and_html(constructed_report(), dir.path);
  const fs::path page = dir.path / "report.html";

  // 1. Screenshot: decoded with stb_image; count non-white pixels and the colours that only the
  //    verdict banner (#e6f4ee) and the plots' first series (#0072B2) use.
  const fs::path shot = dir.path / "shot.png";
  ASSERT_EQ(run_chromium(chromium, dir.path / "profile1", "--window-size=1280,2600 --screenshot=" + shot.string(), page,
                         dir.path / "shot.out", dir.path / "shot.log"),
            0)
      << test::slurp(dir.path / "shot.log");
  const std::string png = test::slurp(shot);
  int w = 0, h = 0, channels = 0;
  unsigned char* pixels = stbi_load_from_memory(reinterpret_cast<const unsigned char*>(png.data()),
                                                static_cast<int>(png.size()), &w, &h, &channels, 3);
  ASSERT_NE(pixels, nullptr) << "screenshot is not a PNG";
  EXPECT_EQ(w, 1280);
  std::size_t non_white = 0, banner = 0, series = 0;
  auto near = [](const unsigned char* p, int r, int g, int b) {
    return std::abs(p[0] - r) <= 6 && std::abs(p[1] - g) <= 6 && std::abs(p[2] - b) <= 6;
  };
  for (std::size_t i = 0; i < static_cast<std::size_t>(w) * static_cast<std::size_t>(h); ++i) {
    const unsigned char* p = pixels + 3 * i;
    non_white += (p[0] < 245 || p[1] < 245 || p[2] < 245) ? 1 : 0;
    banner += near(p, 0xe6, 0xf4, 0xee) ? 1 : 0;
    series += near(p, 0x00, 0x72, 0xb2) ? 1 : 0;
  }
  stbi_image_free(pixels);
  const double total = static_cast<double>(w) * h;
  EXPECT_GT(non_white / total, 0.02) << "screenshot looks blank: " << non_white << " non-white pixels";
  EXPECT_GT(banner, 20000u) << "the verdict banner's background is missing";
  EXPECT_GT(series, 500u) << "no plot drawn in the first palette colour";

  // 2. The DOM as the browser parsed it.
  ASSERT_EQ(run_chromium(chromium, dir.path / "profile2", "--dump-dom", page, dir.path / "dom.html",
                         dir.path / "dom.log"),
            0)
      << test::slurp(dir.path / "dom.log");
  const std::string dom = test::slurp(dir.path / "dom.html");
  EXPECT_NE(dom.find("id=\"verdict-label\">SUPPORTED</h2>"), std::string::npos) << dom.substr(0, 2000);
  for (const char* id : {"id=\"plot-accuracy-flops\"", "id=\"plot-suite-accuracy\"", "id=\"plot-latency-cdf\"",
                         "id=\"suite-table\"", "id=\"pareto-front\""})
    EXPECT_NE(dom.find(id), std::string::npos) << id;
  EXPECT_NE(dom.find("small &lt;q4&gt; matches big on every suite"), std::string::npos);

  // 3. No console message from the page in either run.
  EXPECT_EQ(console_lines(test::slurp(dir.path / "shot.log")), "");
  EXPECT_EQ(console_lines(test::slurp(dir.path / "dom.log")), "");

  // The check above can fail: a probe page with a console error and an uncaught exception.
  const fs::path probe = dir.path / "probe.html";
  std::ofstream(probe) << "<!DOCTYPE html><html><body><p>probe</p><script>console.error('tenx-probe');"
                          "undefined_function();</script></body></html>";
  run_chromium(chromium, dir.path / "profile3", "--dump-dom", probe, dir.path / "probe.out", dir.path / "probe.log");
  const std::string probe_lines = console_lines(test::slurp(dir.path / "probe.log"));
  EXPECT_NE(probe_lines.find("tenx-probe"), std::string::npos) << test::slurp(dir.path / "probe.log");
  EXPECT_NE(probe_lines.find("Uncaught"), std::string::npos);
}

}  // namespace
}  // namespace tenx::eval
