// Analysis plan files (`tenx verify --plan`, `tenx plan check`): arbitrary bytes parsed as JSON and
// read strictly by plan_from_json. A plan that reads must write (to_json) to a plan that reads
// back to the same JSON, so what verify records is what the file said.
#include <cstdio>
#include <cstdlib>

#include "fuzz_support.hpp"
#include "tenx/eval/stats/plan.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto j = tenx::eval::Json::parse(tenx_fuzz::as_view(data, size), nullptr, false);
  if (j.is_discarded()) return 0;
  tenx_fuzz::guarded([&] {
    const tenx::eval::AnalysisPlan plan = tenx::eval::plan_from_json(j, "fuzz-plan.json");
    const tenx::eval::Json written = tenx::eval::to_json(plan);
    const tenx::eval::Json again = tenx::eval::to_json(tenx::eval::plan_from_json(written, "fuzz-plan-again.json"));
    if (written != again) {
      std::fprintf(stderr, "plan does not round-trip:\n%s\n%s\n", written.dump().c_str(), again.dump().c_str());
      std::abort();
    }
  });
  return 0;
}
