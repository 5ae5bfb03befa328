#pragma once
// What `tenx run` and `tenx verify` share: the NAME=PATH model argument, the default run folder
// and the progress display of an evaluation.
#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "tenx/eval/run/runner.hpp"

namespace tenx::cli {

// NAME=PATH, or a bare PATH named after its file stem; with name_only (verify --run) a bare NAME.
// Throws tenx::Error(flag, ...) when the name or path is empty.
eval::ModelArg parse_model_arg(const std::string& text, const char* flag, bool name_only = false);

// The options of remote models (--model NAME=http://..., docs/remote.md), shared by run and verify.
struct RemoteArgs {
  std::vector<std::string> arch;  // NAME=FILE
  std::string cache;
  int concurrency = 4;
  double timeout = 600;
  int retries = 5;
};
void add_remote_options(CLI::App* sub, RemoteArgs& args);
// Fills o.remote and o.arch_files; appends the options to o.argv. Throws tenx::Error(flag, ...).
void apply_remote_options(const RemoteArgs& args, eval::RunOptions& o);

// --mmproj NAME=FILE (repeat): a local model's vision encoder or projector file instead of the
// NAME.mmproj.gguf beside it. Fills o.mmproj_files, appends to o.argv; throws tenx::Error("--mmproj").
void add_mmproj_option(CLI::App* sub, std::vector<std::string>& mmproj);
void apply_mmproj_option(const std::vector<std::string>& mmproj, eval::RunOptions& o);

// --formats LIST: which report writers run (report_writer.hpp); checked by parse_report_formats.
void add_formats_option(CLI::App* sub, std::string& formats);

// ./tenx-runs/PREFIX-YYYYMMDD-HHMMSS (UTC), with a numeric suffix if that exists already.
std::filesystem::path default_run_dir(const std::string& prefix);

// Progress on stderr. A terminal gets one line redrawn at most 10 times a second: a bar (coloured
// unless NO_COLOR is set), items/s and the ETA over all models; otherwise one line per model ×
// suite. Nothing when quiet.
eval::ProgressFn run_progress_printer(bool quiet);

}  // namespace tenx::cli
