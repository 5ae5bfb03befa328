// llama.cpp mmproj files (docs/vision.md): arbitrary bytes -> load_gguf_bytes, then the vision
// encoder's loader (ClipModel::from_file: clip.* keys, v.* / mm.* tensors, shapes, storage types)
// and the analytic compute of an image through what it accepted.
#include "fuzz_support.hpp"
#include "tenx/model/clip.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tenx::ModelFile file;
  bool loaded = false;
  tenx_fuzz::guarded([&] {
    file = tenx::load_gguf_bytes("fuzz.mmproj.gguf", tenx_fuzz::as_view(data, size));
    loaded = true;
  });
  if (!loaded) return 0;
  tenx_fuzz::guarded([&] {
    const tenx::ClipModel model = tenx::ClipModel::from_file(std::move(file));
    (void)tenx::analytic_clip_image(model);
    (void)model.hparams().n_output_tokens();
  });
  return 0;
}
