// tenx frontier REPORT...: accuracy against FLOPs per item for a family of models, the Pareto
// front and the iso-accuracy compute ratio (include/tenx/eval/report/frontier.hpp).
#include <fmt/format.h>

#include <filesystem>

#include "command.hpp"
#include "tenx/eval/report/frontier.hpp"
#include "tenx/util/atomic_file.hpp"
#include "tenx/util/error.hpp"

namespace tenx::cli {
namespace {

struct FrontierArgs {
  std::vector<std::string> inputs;
  std::string baseline, out;
  bool json = false;
};

void run(const FrontierArgs& a) {
  std::vector<eval::ReportView> reports;
  for (const std::string& in : a.inputs) reports.push_back(eval::load_report_view(in));
  const eval::Frontier f = eval::compute_frontier(reports, a.baseline);
  const eval::Json j = eval::to_json(f);
  const std::string md = eval::frontier_markdown(f);
  if (!a.out.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(a.out, ec);
    if (ec) throw Error(a.out, "cannot create the folder: " + ec.message());
    write_file_atomically(std::filesystem::path(a.out) / "frontier.svg", eval::frontier_svg(f));
    write_file_atomically(std::filesystem::path(a.out) / "frontier.md", md);
    write_file_atomically(std::filesystem::path(a.out) / "frontier.json", j.dump(2) + "\n");
  }
  if (a.json) {
    fmt::print("{}\n", j.dump(2));
  } else {
    fmt::print("{}", md);
    if (!a.out.empty()) fmt::print("\nwrote frontier.svg, frontier.md, frontier.json to {}\n", a.out);
  }
}

const Registrar frontier_command{"frontier", [](CLI::App& app) {
  auto args = std::make_shared<FrontierArgs>();
  auto* sub = app.add_subcommand(
      "frontier", "Accuracy against FLOPs per item for 3+ models: Pareto front and iso-accuracy compute ratio");
  sub->add_option("reports", args->inputs, "report.json files or run folders holding one")->required();
  sub->add_option("--baseline", args->baseline, "Model whose accuracy the front must reach (default: most FLOPs)");
  sub->add_option("--out", args->out, "Folder for frontier.svg, frontier.md and frontier.json");
  sub->add_flag("--json", args->json, "Print JSON");
  sub->callback([args] { run(*args); });
}};

}  // namespace
}  // namespace tenx::cli
