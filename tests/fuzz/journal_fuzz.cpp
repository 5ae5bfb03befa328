// The run journal a `tenx run --resume` reads back (run_dir/journal.jsonl: one item record per
// line, a torn last line dropped and cut off): arbitrary bytes as the journal file, opened the
// way the runner opens it. The first line is also read as run.json (the run manifest) and as a
// model description, the other records a resumed run trusts.
#include "eval/run/runner_internal.hpp"
#include "fuzz_support.hpp"
#include "tenx/eval/run/record.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = tenx_fuzz::as_view(data, size);
  const auto file = tenx_fuzz::scratch_dir() / "journal.jsonl";
  tenx_fuzz::write_file(file, text);
  tenx_fuzz::guarded([&] {
    tenx::eval::detail::Journal journal(file, 1 << 20, 1e9);
    for (const auto& [key, record] : journal.done()) (void)tenx::eval::to_json(record);
  });
  const auto j = tenx::eval::Json::parse(text.substr(0, text.find('\n')), nullptr, false);
  if (!j.is_discarded()) {
    tenx_fuzz::guarded([&] { (void)tenx::eval::run_manifest_from_json(j, "fuzz-run.json"); });
    tenx_fuzz::guarded([&] { (void)tenx::eval::model_info_from_json(j, "fuzz-model"); });
    tenx_fuzz::guarded([&] { (void)tenx::eval::item_record_from_json(j, "fuzz-record"); });
  }
  return 0;
}
