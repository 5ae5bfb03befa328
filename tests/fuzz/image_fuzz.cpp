// Image decoding for suites (PNG through stb_image, PGM/PPM plain and binary): arbitrary bytes
// written to a scratch file and decoded; a decoded image goes through the checks and renderers
// `tenx suites show` uses.
#include "fuzz_support.hpp"
#include "tenx/suites/image.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto file = tenx_fuzz::scratch_dir() / "image.bin";
  tenx_fuzz::write_file(file, tenx_fuzz::as_view(data, size));
  tenx_fuzz::guarded([&] {
    const tenx::suites::Image im = tenx::suites::decode_image_file(file);
    if (!tenx::suites::image_problem(im).empty()) return;  // decoded but outside the suite limits
    (void)tenx::suites::encode_pnm(im);
    (void)tenx::suites::image_to_text(im);
  });
  return 0;
}
