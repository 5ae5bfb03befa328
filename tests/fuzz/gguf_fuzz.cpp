// GGUF reader: arbitrary bytes -> load_gguf_bytes (the checks load_gguf runs on a mapped file),
// then what loading a model does with the result: the configuration and weights
// (Model::from_file) and the tokenizer (Tokenizer::from_metadata, one encode/decode).
#include "fuzz_support.hpp"
#include "tenx/model/model.hpp"
#include "tenx/model/tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tenx::ModelFile file;
  bool loaded = false;
  tenx_fuzz::guarded([&] {
    file = tenx::load_gguf_bytes("fuzz.gguf", tenx_fuzz::as_view(data, size));
    loaded = true;
  });
  if (!loaded) return 0;
  tenx_fuzz::guarded([&] {
    const tenx::Tokenizer tok = tenx::Tokenizer::from_metadata(file.meta, file.path);
    const auto ids = tok.encode("Hello world, 123 <s> caf\xc3\xa9\n", true, true);
    (void)tok.decode(ids, true);
  });
  tenx_fuzz::guarded([&] { (void)tenx::Model::from_file(std::move(file)); });
  return 0;
}
