#pragma once
// A loaded model file: metadata plus tensor views. GGUF files are memory-mapped
// (zero-copy views); Hugging Face directories are converted on load into the same
// form (GGUF names, llama Q/K permutation applied) with owned buffers, so the rest
// of tenx sees one representation.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tenx/model/metadata.hpp"
#include "tenx/tensor/view.hpp"

namespace tenx {

// GGML_MAX_NAME: a GGUF tensor name is shorter than this (the reader refuses, the writer never writes, longer).
inline constexpr uint64_t kGgufMaxTensorName = 64;

struct ModelFile {
  std::string path;           // what the user gave (file or directory)
  Metadata meta;
  std::vector<TensorView> tensors;  // in file order
  uint64_t file_bytes = 0;          // size on disk (sum of shards for HF)
  std::shared_ptr<const void> storage;  // keeps the mapping / buffers alive

  const TensorView* find(std::string_view name) const;
};

// GGUF v3 (throws tenx::Error naming the file and the problem on any invalid input).
ModelFile load_gguf(const std::string& path);
// The same checks on GGUF bytes already in memory (copied; `subject` names them in errors).
ModelFile load_gguf_bytes(const std::string& subject, std::string_view bytes);

// Hugging Face directory: config.json + model.safetensors or sharded
// model.safetensors.index.json; F32/F16/BF16. Tokenizer from tokenizer.json when present.
ModelFile load_hf_dir(const std::string& dir);

// A directory -> load_hf_dir, otherwise load_gguf.
ModelFile load_model_file(const std::string& path);

// Writes GGUF v3 with the given alignment (general.alignment is written when not 32).
// Tensor data is taken from the views. Writes to a temporary file and renames it.
void write_gguf(const std::string& path, const Metadata& meta, const std::vector<TensorView>& tensors,
                uint32_t alignment = 32);

}  // namespace tenx
