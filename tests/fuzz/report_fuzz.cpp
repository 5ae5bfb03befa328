// Report reading for `tenx compare` / `tenx frontier`: arbitrary bytes parsed as JSON (as
// load_report_view does) and viewed as a report.json.
#include "fuzz_support.hpp"
#include "tenx/eval/report/report_view.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto j = tenx::eval::Json::parse(tenx_fuzz::as_view(data, size), nullptr, false);
  if (j.is_discarded()) return 0;
  tenx_fuzz::guarded([&] {
    const tenx::eval::ReportView view = tenx::eval::report_view_from_json(j, "fuzz-report.json");
    for (const auto& g : view.groups) {
      (void)view.group(g.model, g.suite);
      (void)view.model(g.model);
    }
  });
  return 0;
}
