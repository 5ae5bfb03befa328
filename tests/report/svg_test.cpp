// The SVG writer and the three plots: escaping, number format, ticks, determinism, and
// well-formed XML checked by an independent parser (Python's xml.etree) on hostile labels.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "cli/run_cli.hpp"
#include "tenx/eval/report/svg.hpp"
#include "tenx/eval/report/svg_plot.hpp"

namespace tenx::eval {
namespace {

std::size_t count(const std::string& s, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + needle.size())) ++n;
  return n;
}

// Names that break naive writers: markup characters, quotes, UTF-8, a control character, length.
const std::vector<std::string> kHostile{"a<b>&\"c\"'d'", "mödel–β\x01", "tiny",
                                        "a-very-long-model-name-ääääääääääääääääää"};

AccuracyFlopsPlot accuracy_plot() {
  AccuracyFlopsPlot p;
  p.points = {{kHostile[0], 1e9, 0.5, 0.45, 0.55},
              {kHostile[1], 1e10, 0.7, 0.66, 0.74},
              {kHostile[2], 5e10, 0.6, 0.55, 0.65},
              {kHostile[3], 1e11, 0.8, 0.76, 0.84}};
  p.baseline = 3;
  return p;
}

SuiteAccuracyPlot suite_plot() {
  SuiteAccuracyPlot p;
  p.suites = {"reasoning", "multimodal <img>"};
  p.models = {kHostile[0], kHostile[1]};
  p.bars = {{{true, 0.5, 0.4, 0.6}, {false}}, {{true, 0.9, 0.85, 0.95}, {true, 0.3, 0.2, 0.4}}};
  return p;
}

LatencyCdfPlot latency_plot(std::size_t n) {
  LatencyCdfPlot p;
  LatencySeries a{kHostile[0], {}}, b{kHostile[1], {}};
  for (std::size_t i = 0; i < n; ++i) {
    a.seconds.push_back(0.001 * static_cast<double>(1 + (i * 7) % n));
    b.seconds.push_back(0.05 + 0.01 * static_cast<double>(i % 13));
  }
  p.series = {a, b};
  return p;
}

TEST(Svg, EscapeAndNumbers) {
  EXPECT_EQ(svg::escape("<a & 'b' \"c\">"), "&lt;a &amp; &#39;b&#39; &quot;c&quot;&gt;");
  EXPECT_EQ(svg::escape(std::string("x\x01y\tz")), "xy\tz");
  EXPECT_EQ(svg::num(1.0), "1");
  EXPECT_EQ(svg::num(2.3456), "2.35");  // fixed two decimals, trailing zeros dropped
  EXPECT_EQ(svg::num(-0.001), "0");
  EXPECT_EQ(svg::num(0.0 / 0.0), "0");
  EXPECT_EQ(svg::si(1.5e9), "1.5G");
  EXPECT_EQ(svg::si(2e6), "2M");
  EXPECT_EQ(svg::si(999.0), "999");
  // Truncation keeps whole UTF-8 characters: "ä" is 2 bytes, cut before it, then "…".
  EXPECT_EQ(svg::truncate_utf8("abcdää", 7), "abcd\u2026");
  EXPECT_EQ(svg::truncate_utf8("short", 7), "short");
}

TEST(Svg, TicksAndScales) {
  std::vector<std::string> labels;
  for (const auto& t : svg::linear_ticks(0.0, 1.0, 5, true)) labels.push_back(t.label);
  EXPECT_EQ(labels, (std::vector<std::string>{"0%", "20%", "40%", "60%", "80%", "100%"}));
  labels.clear();
  for (const auto& t : svg::linear_ticks(0.0, 0.35, 6)) labels.push_back(t.label);
  EXPECT_EQ(labels, (std::vector<std::string>{"0.0", "0.1", "0.2", "0.3"}));  // step 0.1 (0.05 < 0.35/6)
  labels.clear();
  for (const auto& t : svg::log_ticks(1e9, 1e11)) labels.push_back(t.label);
  EXPECT_EQ(labels, (std::vector<std::string>{"1G", "2G", "5G", "10G", "20G", "50G", "100G"}));
  labels.clear();
  for (const auto& t : svg::log_ticks(1e6, 1e12)) labels.push_back(t.label);
  EXPECT_EQ(labels, (std::vector<std::string>{"1M", "10M", "100M", "1G", "10G", "100G", "1T"}));
  const auto [lo, hi] = svg::log_range(3e9, 2e10);
  EXPECT_DOUBLE_EQ(lo, 1e9);
  EXPECT_DOUBLE_EQ(hi, 1e11);
  const svg::Scale x{1e9, 1e11, 0.0, 200.0, true};
  EXPECT_NEAR(x(1e10), 100.0, 1e-9);
  const svg::Scale y{0.0, 1.0, 300.0, 100.0, false};
  EXPECT_NEAR(y(0.25), 250.0, 1e-12);
}

TEST(Svg, PlotsHaveTheirElementsAndAreDeterministic) {
  const std::string a = accuracy_flops_svg(accuracy_plot());
  EXPECT_EQ(a, accuracy_flops_svg(accuracy_plot()));
  EXPECT_NE(a.find("id=\"plot-accuracy-flops\""), std::string::npos);
  EXPECT_NE(a.find("<title>Accuracy against FLOPs per item</title>"), std::string::npos);
  EXPECT_EQ(count(a, "class=\"point\""), 4u);
  EXPECT_EQ(count(a, "class=\"ci\""), 12u);  // a bar and two caps per model
  EXPECT_NE(a.find("id=\"pareto-front\""), std::string::npos);
  EXPECT_NE(a.find("class=\"baseline-accuracy\""), std::string::npos);
  EXPECT_NE(a.find("FLOPs per item (log scale)"), std::string::npos);
  EXPECT_EQ(a.find("a<b>"), std::string::npos);  // never unescaped
  EXPECT_NE(a.find("a&lt;b&gt;&amp;&quot;c&quot;"), std::string::npos);

  const std::string s = suite_accuracy_svg(suite_plot());
  EXPECT_EQ(count(s, "class=\"bar\""), 3u);
  EXPECT_EQ(count(s, ">N/A</text>"), 1u);  // not applicable is a label, not a zero bar

  const std::string small = latency_cdf_svg(latency_plot(30));
  EXPECT_EQ(count(small, "class=\"cdf\""), 2u);
  const std::string big = latency_cdf_svg(latency_plot(5000));
  EXPECT_LT(big.size(), 40000u);  // thinned to 400 quantiles per curve
  EXPECT_NE(big.find("(log scale)"), std::string::npos);  // 1 ms .. 5 s spans > 20x
}

TEST(Svg, WellFormedXmlByAnIndependentParser) {
  if (!std::filesystem::exists("/usr/bin/python3")) GTEST_SKIP() << "no /usr/bin/python3 to parse the SVG";
  test::TempDir dir;
  const std::vector<std::pair<std::string, std::string>> docs{
      {"a.svg", accuracy_flops_svg(accuracy_plot())},
      {"s.svg", suite_accuracy_svg(suite_plot())},
      {"l.svg", latency_cdf_svg(latency_plot(1000))},
      {"empty.svg", accuracy_flops_svg(AccuracyFlopsPlot{})},
      {"empty_l.svg", latency_cdf_svg(LatencyCdfPlot{})}};
  std::string files;
  for (const auto& [name, text] : docs) {
    std::ofstream(dir / name, std::ios::binary) << text;
    files += " " + (dir / name);
  }
  // Each file must parse, have an <svg> root in the SVG namespace and a <title> first child.
  const std::string script =
      "import sys, xml.etree.ElementTree as E\n"
      "ns='{http://www.w3.org/2000/svg}'\n"
      "for f in sys.argv[1:]:\n"
      "    r = E.parse(f).getroot()\n"
      "    assert r.tag == ns+'svg', (f, r.tag)\n"
      "    assert r[0].tag == ns+'title' and r[0].text, f\n"
      "    assert r.get('viewBox'), f\n"
      "print('ok', len(sys.argv) - 1)\n";
  std::ofstream(dir / "check.py") << script;
  const std::string cmd = "/usr/bin/python3 " + (dir / "check.py") + files + " > " + (dir / "out.txt") + " 2>&1";
  const int rc = std::system(cmd.c_str());
  EXPECT_EQ(rc, 0) << test::slurp(dir / "out.txt");
  EXPECT_EQ(test::slurp(dir / "out.txt"), "ok 5\n");
}

}  // namespace
}  // namespace tenx::eval
