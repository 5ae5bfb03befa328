// A run folder's own files as text: run.json and the journal / items.jsonl lines the runner and
// `tenx merge` write, and read_run (runner.hpp) that reads a finished folder back. Apart from the
// runner so that readers of run folders (merge, the fuzz targets) need not link the models.
#include <filesystem>
#include <sstream>

#include "runner_internal.hpp"
#include "tenx/eval/run/runner.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/read_file.hpp"

namespace tenx::eval {

namespace detail {
std::string manifest_text(const RunManifest& m) { return to_json(m).dump(2) + "\n"; }
std::string record_line(const ItemRecord& r) {
  return to_json(r).dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}
}  // namespace detail

RunResult read_run(const std::filesystem::path& run_dir) {
  RunResult r;
  const std::filesystem::path run_json = run_dir / "run.json";
  if (!std::filesystem::exists(run_json)) throw Error(run_json.string(), "missing (not a tenx run folder)");
  Json j = Json::parse(read_file(run_json, "the run manifest"), nullptr, false);
  if (j.is_discarded()) throw Error(run_json.string(), "not valid JSON");
  r.manifest = run_manifest_from_json(j, run_json.string());
  const std::filesystem::path items = run_dir / "items.jsonl";
  if (!std::filesystem::exists(items))
    throw Error(items.string(), "missing (the run has not finished; continue it with tenx run --resume)");
  std::istringstream in(read_file(items, "the run's items"));
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    const std::string subject = items.string() + ":" + std::to_string(line_no);
    Json rec = Json::parse(line, nullptr, false);
    if (rec.is_discarded()) throw Error(subject, "not valid JSON");
    r.records.push_back(item_record_from_json(rec, subject));
  }
  return r;
}

}  // namespace tenx::eval
