#pragma once
// Hugging Face safetensors files: u64 little-endian header length, a JSON header
// {"name": {"dtype", "shape", "data_offsets": [begin, end)}, "__metadata__": {...}},
// then the data. Memory-mapped; tensors are views into the mapping.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tenx/tensor/dtype.hpp"

namespace tenx {

struct SafetensorsTensor {
  std::string name;
  DType type = DType::F32;      // F32, F16 or BF16
  std::vector<int64_t> shape;   // PyTorch order (last dimension contiguous)
  const uint8_t* data = nullptr;
  uint64_t nbytes = 0;
};

struct SafetensorsFile {
  std::string path;
  std::vector<SafetensorsTensor> tensors;  // in data order
  uint64_t file_bytes = 0;
  std::shared_ptr<const void> storage;     // the mapping

  const SafetensorsTensor* find(std::string_view name) const;
};

// Throws tenx::Error(path, ...) on a bad header length, bad JSON, an unknown dtype,
// a shape whose size does not match its offsets, or out-of-range/overlapping data.
SafetensorsFile load_safetensors(const std::string& path);

}  // namespace tenx
