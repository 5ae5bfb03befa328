#pragma once
// Re-storing a model's tensors in another type, as llama.cpp's quantize and
// convert_hf_to_gguf.py do: 2-D (and higher) weight matrices, token_embd
// included, take the target type; 1-D tensors (norms, biases) are kept in F32.
// A matrix whose row length is not a multiple of the target's block size falls
// back: q4_k/q6_k to q8_0 (rows not a multiple of 256; llama.cpp: q5_0/q8_0), and
// then to F16. general.file_type and general.quantization_version follow.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tenx/model/model_file.hpp"

namespace tenx {

// GGUF general.file_type (llama_ftype) for a model stored mostly as t.
uint32_t gguf_file_type(DType t);

// The type tensor t is stored in when the model is converted to target;
// nullopt target = keep the matrix's own type (1-D tensors still become F32).
DType storage_type_for(const TensorView& t, std::optional<DType> target);

struct TensorConversion {
  std::string name;
  DType from = DType::F32;
  DType to = DType::F32;
  int64_t elements = 0;
  uint64_t bytes_in = 0, bytes_out = 0;
};

struct QuantizedModel {
  ModelFile model;  // owned buffers; keeps the source alive for unchanged tensors
  std::vector<TensorConversion> conversions;  // one per tensor, in file order
  uint64_t bytes_in = 0, bytes_out = 0;
};

// Throws tenx::Error(in.path, ...) when target cannot be written or a tensor holds
// values the quantizer rejects (non-finite; too large for a K-quant's f16 scale).
QuantizedModel quantize_model(const ModelFile& in, std::optional<DType> target);

}  // namespace tenx
