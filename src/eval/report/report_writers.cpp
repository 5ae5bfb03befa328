// The registry of report writers (include/tenx/eval/report/report_writer.hpp): one class per
// output, each fed the typed metrics. The order is the order of writing: numbers first, drawing
// last, the console table at the end (after every file is safely on disk).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "report_parts.hpp"
#include "tenx/eval/report/number_format.hpp"
#include "tenx/eval/report/report_html.hpp"
#include "tenx/eval/report/report_writer.hpp"
#include "tenx/eval/report/text_table.hpp"
#include "tenx/util/atomic_file.hpp"
#include "tenx/util/error.hpp"

namespace tenx::eval {
namespace {

class JsonWriter final : public ReportWriter {
 public:
  const char* name() const override { return "json"; }
  const char* description() const override { return "report.json (docs/report.schema.json)"; }
  std::vector<std::string> files() const override { return {"report.json"}; }
  void write(const ReportInput& in, const std::filesystem::path& dir) const override {
    write_file_atomically(dir / "report.json", in.report.dump(2) + "\n");
  }
};

class CsvWriter final : public ReportWriter {
 public:
  const char* name() const override { return "csv"; }
  const char* description() const override { return "items.csv, one row per model x item"; }
  std::vector<std::string> files() const override { return {"items.csv"}; }
  void write(const ReportInput& in, const std::filesystem::path& dir) const override {
    write_file_atomically(dir / "items.csv", items_csv(in.run));
  }
};

class MarkdownWriter final : public ReportWriter {
 public:
  const char* name() const override { return "md"; }
  const char* description() const override { return "summary.md, the tables and the verdict"; }
  std::vector<std::string> files() const override { return {"summary.md"}; }
  void write(const ReportInput& in, const std::filesystem::path& dir) const override {
    write_file_atomically(dir / "summary.md", summary_markdown(in.run, in.metrics, in.verdict));
  }
};

class SvgWriter final : public ReportWriter {
 public:
  const char* name() const override { return "svg"; }
  const char* description() const override { return "the SVG plots (accuracy-FLOPs, per-suite accuracy, latency CDF)"; }
  std::vector<std::string> files() const override {
    return {"accuracy_flops.svg", "suite_accuracy.svg", "latency_cdf.svg"};
  }
  void write(const ReportInput& in, const std::filesystem::path& dir) const override {
    const ReportPlots plots = report_plots(in.view);
    write_file_atomically(dir / "accuracy_flops.svg", plots.accuracy_flops);
    write_file_atomically(dir / "suite_accuracy.svg", plots.suite_accuracy);
    write_file_atomically(dir / "latency_cdf.svg", plots.latency_cdf);
  }
};

class HtmlWriter final : public ReportWriter {
 public:
  const char* name() const override { return "html"; }
  const char* description() const override { return "report.html, self-contained with the plots inline"; }
  std::vector<std::string> files() const override { return {"report.html"}; }
  void write(const ReportInput& in, const std::filesystem::path& dir) const override {
    write_file_atomically(dir / "report.html", report_html(in.view, report_plots(in.view)));
  }
};

// `tenx run`'s table on the terminal, per model × suite from the metrics (acc and acc_norm as
// in summary.md, so the two never disagree).
class ConsoleWriter final : public ReportWriter {
 public:
  const char* name() const override { return "console"; }
  const char* description() const override { return "the per model x suite table on stdout (tenx run)"; }
  std::vector<std::string> files() const override { return {}; }
  void write(const ReportInput& in, const std::filesystem::path&) const override {
    if (!in.console) return;
    const std::string text = console_table(in.metrics);
    std::fwrite(text.data(), 1, text.size(), in.console);
    std::fflush(in.console);
  }
};

}  // namespace

std::string console_table(const RunMetrics& metrics) {
  TextTable t({{"model", Align::left, 16}, {"suite", Align::left, 12}, {"items", Align::right, 7},
               {"N/A", Align::right, 6}, {"acc", Align::right, 8}, {"acc_norm", Align::right, 9},
               {"FLOPs/item", Align::right, 12}});
  for (const GroupMetrics& g : metrics.suites) {
    t.add_row({g.model, g.suite, std::to_string(g.items), std::to_string(g.not_applicable),
               g.accuracy ? numfmt::fixed3(g.accuracy->value) : "n/a",
               g.accuracy_norm ? numfmt::fixed3(g.accuracy_norm->value) : "-",
               g.applicable ? numfmt::count2(g.compute.flops_per_item) : "-"});
    if (g.errors) t.add_note(fmt::format("  ({} items did not fit the context and count as wrong)", g.errors));
  }
  return t.aligned();
}

const std::vector<const ReportWriter*>& report_writers() {
  static const JsonWriter json;
  static const CsvWriter csv;
  static const MarkdownWriter md;
  static const SvgWriter svg;
  static const HtmlWriter html;
  static const ConsoleWriter console;
  static const std::vector<const ReportWriter*> all = {&json, &csv, &md, &svg, &html, &console};
  return all;
}

std::vector<std::string> parse_report_formats(const std::string& list) {
  std::vector<std::string> known;
  for (const ReportWriter* w : report_writers()) known.push_back(w->name());
  if (list.empty() || list == "all") return known;
  std::vector<std::string> asked;
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t comma = std::min(list.find(',', start), list.size());
    const std::string name = list.substr(start, comma - start);
    if (!name.empty()) {
      if (std::find(known.begin(), known.end(), name) == known.end())
        throw Error("--formats", fmt::format("unknown format '{}' (known: {}, or all)", name, fmt::join(known, ", ")));
      asked.push_back(name);
    }
    start = comma + 1;
  }
  if (asked.empty()) throw Error("--formats", "names no format (known: " + fmt::format("{}", fmt::join(known, ", ")) + ", or all)");
  std::vector<std::string> out;  // registry order, each once
  for (const std::string& k : known)
    if (std::find(asked.begin(), asked.end(), k) != asked.end()) out.push_back(k);
  return out;
}

}  // namespace tenx::eval
