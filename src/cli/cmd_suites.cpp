// tenx suites list | show NAME | validate PATH | build: the task suites (docs/suite-format.md).
#include <fmt/format.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "command.hpp"
#include "tenx/suites/generator.hpp"
#include "tenx/suites/image.hpp"
#include "tenx/suites/suite_io.hpp"
#include "tenx/suites/validator.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/read_file.hpp"

namespace tenx::cli {
namespace {

namespace fs = std::filesystem;
using namespace tenx::suites;

struct SuitesOptions {
  std::string suites_dir;
  std::string name;
  std::string split = "test";
  std::string task;
  int items = 3;
  std::string out;
  std::string only;
  std::string raw_dir;
  bool check = false;
};

std::string split_counts(const SuiteInfo& info) {
  std::string s;
  for (const auto& sp : info.splits) s += fmt::format("{}{} {}", s.empty() ? "" : ", ", sp.name, sp.items);
  return s;
}

void run_list(const SuitesOptions& o) {
  fs::path dir = shipped_suites_dir(o.suites_dir);
  std::vector<fs::path> found;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_directory() && fs::exists(entry.path() / "suite.json")) found.push_back(entry.path());
  std::sort(found.begin(), found.end());
  fmt::print("{:<12} {:<8} {:<11} {:>5}  {}\n", "suite", "version", "domain", "tasks", "splits (items)");
  for (const auto& p : found) {
    SuiteInfo info = load_suite_info(p);
    fmt::print("{:<12} {:<8} {:<11} {:>5}  {}\n", info.name, info.version, info.domain, info.tasks.size(), split_counts(info));
  }
  fmt::print("({})\n", dir.string());
}

void run_show(const SuitesOptions& o) {
  fs::path dir = resolve_suite(o.name, o.suites_dir);
  Suite suite = load_suite(dir);
  const SuiteInfo& info = suite.info;
  fmt::print("{} {} ({}): {}\n", info.name, info.version, info.domain, info.description);
  fmt::print("folder: {}\nseed: {}\nsplits: {}\n", dir.string(), info.seed, split_counts(info));
  for (const auto& s : info.sources) fmt::print("source: {} [{}]\n", s.name, s.licence);
  fmt::print("\n{:<22} {:<8} {:<13} {:>6} {:>6}  {}\n", "task", "type", "metric", "test", "chance", "references (test accuracy)");
  for (const auto& t : info.tasks) {
    size_t n = 0;
    if (auto it = suite.splits.find("test"); it != suite.splits.end())
      for (const auto& item : it->second) n += item.task == t.name;
    std::string refs;
    for (const auto& r : t.references) refs += fmt::format("{}{} {:.3f}", refs.empty() ? "" : ", ", r.name, r.score());
    fmt::print("{:<22} {:<8} {:<13} {:>6} {:>6.3f}  {}\n", t.name, item_type_name(t.type), t.metric, n, t.chance, refs);
  }
  const auto& items = suite.split(o.split);
  int shown = 0;
  for (const auto& item : items) {
    if (shown >= o.items) break;
    if (!o.task.empty() && item.task != o.task) continue;
    ++shown;
    fmt::print("\n{}\n", item_to_line(item).substr(0, 600));
    if (item.image) fmt::print("{}", image_to_text(*item.image));
  }
}

void run_validate(const SuitesOptions& o) {
  auto problems = validate_suite(o.name);
  for (const auto& p : problems) fmt::print("{}\n", p.to_string());
  if (!problems.empty()) {
    fmt::print(stderr, "tenx: error: {}: {} problem{}\n", o.name, problems.size(), problems.size() == 1 ? "" : "s");
    exit_code() = 2;
    return;
  }
  Suite suite = load_suite(o.name);
  size_t total = 0;
  for (const auto& [name, items] : suite.splits) total += items.size();
  fmt::print("{}: ok ({} tasks, {} items: {})\n", o.name, suite.info.tasks.size(), total, split_counts(suite.info));
}

void run_build(const SuitesOptions& o) {
  fs::path out = o.out.empty() ? shipped_suites_dir(o.suites_dir) : fs::path(o.out);
  fs::path raw = o.raw_dir.empty() ? out.parent_path() / "raw" : fs::path(o.raw_dir);
  if (o.raw_dir.empty() && !fs::exists(raw)) raw = fs::path(TENX_SOURCE_DIR) / "data" / "raw";
  fs::path target = out;
  if (o.check) target = fs::temp_directory_path() / fmt::format("tenx-suites-check-{}", ::getpid());
  bool any = false, differs = false;
  for (const auto& entry : suite_generators()) {
    if (!o.only.empty() && o.only != entry.name) continue;
    any = true;
    SuiteInfo info = build_suite(entry, raw, target);
    fmt::print("{:<12} {}\n", entry.name, split_counts(info));
    for (const auto& s : info.splits) fmt::print("  {:<12} sha256 {}\n", s.file, s.sha256);
    if (o.check) {
      for (const char* f : {"suite.json"}) {
        if (read_file_if_readable(target / entry.name / f) != read_file_if_readable(out / entry.name / f)) {
          fmt::print("  differs from {}: {}\n", (out / entry.name).string(), f);
          differs = true;
        }
      }
      for (const auto& s : info.splits)
        if (read_file_if_readable(target / entry.name / s.file) != read_file_if_readable(out / entry.name / s.file)) {
          fmt::print("  differs from {}: {}\n", (out / entry.name).string(), s.file);
          differs = true;
        }
    }
  }
  if (o.check) fs::remove_all(target);
  if (!any) throw Error(o.only, "no such suite generator");
  if (differs) {
    fmt::print(stderr, "tenx: error: the shipped suites differ from a fresh build\n");
    exit_code() = 1;
  } else if (o.check) {
    fmt::print("shipped suites are byte-identical to a fresh build\n");
  }
}

const Registrar suites_command{"suites", [](CLI::App& app) {
  auto opts = std::make_shared<SuitesOptions>();
  auto* cmd = app.add_subcommand("suites", "task suites: list, show, validate, build (docs/suite-format.md)");
  cmd->require_subcommand(1);
  auto add_dir = [&](CLI::App* sub) {
    sub->add_option("--suites-dir", opts->suites_dir, "folder of the shipped suites (default: $TENX_SUITES_DIR or data/suites)");
  };
  auto* list = cmd->add_subcommand("list", "the shipped suites");
  add_dir(list);
  list->callback([opts] { run_list(*opts); });

  auto* show = cmd->add_subcommand("show", "a suite's tasks, references and first items");
  show->add_option("name", opts->name, "suite name or folder")->required();
  show->add_option("--split", opts->split, "split to show items from")->capture_default_str();
  show->add_option("--task", opts->task, "only items of this task");
  show->add_option("-n,--items", opts->items, "items to show")->capture_default_str();
  add_dir(show);
  show->callback([opts] { run_show(*opts); });

  auto* validate = cmd->add_subcommand("validate", "check a suite folder; every problem as FILE:LINE: FIELD: problem (exit 2)");
  validate->add_option("path", opts->name, "suite folder or its suite.json")->required();
  validate->callback([opts] { run_validate(*opts); });

  auto* build = cmd->add_subcommand("build", "regenerate the shipped suites from data/raw and their seeds");
  build->add_option("--out", opts->out, "output folder (default: the shipped suites folder)");
  build->add_option("--only", opts->only, "build only this suite");
  build->add_option("--raw-dir", opts->raw_dir, "raw data folder (default: OUT/../raw)");
  build->add_flag("--check", opts->check, "build into a temporary folder and compare with OUT byte for byte (exit 1 if different)");
  add_dir(build);
  build->callback([opts] { run_build(*opts); });
}};

}  // namespace
}  // namespace tenx::cli
