// Hugging Face directory reader: the input is cut at "\n--part--\n" into config.json,
// model.safetensors, tokenizer.json, model.safetensors.index.json and tokenizer_config.json
// (absent parts: no such file),
// written to a scratch folder and loaded as a model (load_hf_dir, Model::from_file), plus the
// safetensors reader on its own.
#include "fuzz_support.hpp"
#include "tenx/model/model.hpp"
#include "tenx/model/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fs = std::filesystem;
  const auto parts = tenx_fuzz::split_parts(tenx_fuzz::as_view(data, size));
  const fs::path dir = tenx_fuzz::scratch_dir() / "hf";
  static const bool made = fs::create_directories(dir) || true;
  (void)made;
  const char* names[] = {"config.json", "model.safetensors", "tokenizer.json", "model.safetensors.index.json",
                         "tokenizer_config.json"};
  for (size_t k = 0; k < std::size(names); ++k) {
    std::error_code ec;
    if (k < parts.size()) tenx_fuzz::write_file(dir / names[k], parts[k]);
    else fs::remove(dir / names[k], ec);
  }
  if (parts.size() > 1) tenx_fuzz::guarded([&] { (void)tenx::load_safetensors((dir / names[1]).string()); });
  tenx_fuzz::guarded([&] { (void)tenx::Model::from_file(tenx::load_hf_dir(dir.string())); });
  return 0;
}
