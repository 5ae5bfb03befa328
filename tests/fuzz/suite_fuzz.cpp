// Suite loader: the input is cut at "\n--part--\n" into suite.json, test.jsonl and train.jsonl,
// written to a scratch folder and read the two ways tenx reads suites: load_suite (first problem
// as an error) and validate_suite (every problem, `tenx suites validate`).
#include "fuzz_support.hpp"
#include "tenx/suites/suite_io.hpp"
#include "tenx/suites/validator.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fs = std::filesystem;
  const auto parts = tenx_fuzz::split_parts(tenx_fuzz::as_view(data, size));
  const fs::path dir = tenx_fuzz::scratch_dir() / "suite";
  static const bool made = fs::create_directories(dir) || true;
  (void)made;
  const char* names[] = {"suite.json", "test.jsonl", "train.jsonl"};
  for (size_t k = 0; k < std::size(names); ++k) {
    std::error_code ec;
    if (k < parts.size()) tenx_fuzz::write_file(dir / names[k], parts[k]);
    else fs::remove(dir / names[k], ec);
  }
  tenx_fuzz::guarded([&] { (void)tenx::suites::load_suite(dir); });
  tenx_fuzz::guarded([&] {
    for (const auto& p : tenx::suites::validate_suite(dir)) (void)p.to_string();
  });
  return 0;
}
