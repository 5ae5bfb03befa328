#pragma once
// The visual half of a report folder (implemented by src/eval/report/report_html.cpp): the SVG plots
// (accuracy against FLOPs per item with CI bars and the Pareto front, per-suite accuracy bars with
// CIs, latency CDF per model) and report.html, one self-contained file with the SVGs inline.
// Everything is drawn from a ReportView (report_view.hpp): in `tenx run`/`verify` the view of the
// typed metrics (the svg and html writers, report_writer.hpp); write_plots_and_html re-renders a
// finished folder from its report.json.
#include <filesystem>

#include "tenx/eval/report/report_plots.hpp"
#include "tenx/eval/run/record.hpp"

namespace tenx::eval {

// Re-renders the plots and report.html of a report.json into `dir` atomically (temp file + rename).
// Throws tenx::Error naming the file that could not be written.
void write_plots_and_html(const Json& report, const std::filesystem::path& dir);

// report.html's text for the view and its plots (report_html.cpp).
std::string report_html(const ReportView& view, const ReportPlots& plots);

}  // namespace tenx::eval
