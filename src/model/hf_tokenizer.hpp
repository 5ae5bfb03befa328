#pragma once
// Hugging Face tokenizer.json (byte-level BPE) -> tokenizer.ggml.* GGUF keys, as
// llama.cpp's convert_hf_to_gguf.py writes them (docs/gguf-format.md §4).
#include <cstdint>
#include <string>

#include "tenx/model/metadata.hpp"

namespace tenx {

// Adds tokenizer.ggml.{model,pre,tokens,token_type,merges,bos/eos ids,...} to meta.
// Returns false (and adds nothing) when dir has no tokenizer.json or its model is
// not a byte-level BPE; throws tenx::Error on a malformed tokenizer.json.
// n_vocab (config.json vocab_size) pads the token list with "[PADi]" entries.
bool add_hf_tokenizer(const std::string& dir, uint64_t n_vocab, Metadata& meta);

}  // namespace tenx
