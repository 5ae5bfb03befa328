// Both tokenizer families on arbitrary text. The first byte picks the vocabulary and the flags;
// the rest is the text: encode (with and without special-token parsing), decode, and every
// token's piece. Vocabularies: llama.cpp's gpt-2, llama-spm and phi-3 GGUFs from
// ../shared/reference/llama.cpp-vocab when present, and always two small ones made in code
// (tests/tokenizer/test_vocab.hpp) so the target also runs without ../shared.
#include <cstring>
#include <memory>

#include "../tokenizer/test_vocab.hpp"
#include "fuzz_support.hpp"
#include "tenx/model/model_file.hpp"
#include "tenx/model/tokenizer.hpp"

namespace {

std::vector<tenx::Tokenizer> make_tokenizers() {
  std::vector<tenx::Tokenizer> out;
  using tok_test::kSp;
  out.push_back(tenx::Tokenizer::from_metadata(
      tok_test::gpt2_vocab({"he", "ll", "hell", "hello", "\xc4\xa0w", "\xc4\xa0wor", "<|endoftext|>"},
                           {"h e", "l l", "he ll", "hell o", "\xc4\xa0 w", "\xc4\xa0w or"}, "gpt-2",
                           {1, 1, 1, 1, 1, 1, 3}),
      "gpt2-in-code"));
  out.push_back(tenx::Tokenizer::from_metadata(
      tok_test::spm_vocab({{kSp, -1.0f, 1}, {"h", -2.0f, 1}, {"e", -2.0f, 1}, {"he", -1.5f, 1},
                           {kSp + "he", -1.0f, 1}, {"<ctrl>", 0.0f, 3}, {"<user>", 0.0f, 4}}),
      "spm-in-code"));
  const std::filesystem::path vocab_dir = std::filesystem::path(TENX_SOURCE_DIR) / ".." / "shared" / "reference" / "llama.cpp-vocab";
  for (const char* name : {"ggml-vocab-gpt-2.gguf", "ggml-vocab-llama-spm.gguf", "ggml-vocab-phi-3.gguf"}) {
    const auto path = vocab_dir / name;
    if (!std::filesystem::exists(path)) continue;
    const tenx::ModelFile mf = tenx::load_gguf(path.string());
    out.push_back(tenx::Tokenizer::from_metadata(mf.meta, path.string()));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<tenx::Tokenizer> tokenizers = make_tokenizers();
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  const tenx::Tokenizer& tok = tokenizers[(selector & 0x0F) % tokenizers.size()];
  const bool add_special = selector & 0x10, parse_special = selector & 0x20, special = selector & 0x40;
  const std::string_view text = tenx_fuzz::as_view(data + 1, size - 1);
  tenx_fuzz::guarded([&] {
    const auto ids = tok.encode(text, add_special, parse_special);
    for (int32_t id : ids)
      if (id < 0 || id >= tok.n_vocab()) std::abort();  // an id outside the vocabulary is a bug
    (void)tok.decode(ids, special);
    for (int32_t id : ids) (void)tok.token_to_piece(id, special);
  });
  // Arbitrary ids, too: decode must not read out of range.
  tenx_fuzz::guarded([&] {
    std::vector<int32_t> ids;
    for (size_t k = 1; k + 4 <= size; k += 4) {
      int32_t id;
      std::memcpy(&id, data + k, 4);
      ids.push_back(id);
    }
    (void)tok.decode(ids, special);
  });
  return 0;
}
