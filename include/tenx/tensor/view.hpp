#pragma once
// A non-owning view of one tensor's bytes (memory-mapped file or owned buffer).
// Shapes are in ggml order: ne[0] is the contiguous dimension, so a PyTorch
// [out, in] weight has ne = {in, out}. Row r of a 2-D tensor starts at
// data + r * dtype_row_bytes(type, ne[0]).
#include <array>
#include <cstdint>
#include <string>

#include "tenx/tensor/dtype.hpp"

namespace tenx {

struct TensorView {
  std::string name;
  DType type = DType::F32;
  int n_dims = 0;
  std::array<int64_t, 4> ne = {1, 1, 1, 1};
  const uint8_t* data = nullptr;
  uint64_t nbytes = 0;

  int64_t elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
  int64_t row_bytes() const { return dtype_row_bytes(type, ne[0]); }
  int64_t rows() const { return ne[1] * ne[2] * ne[3]; }
  const uint8_t* row(int64_t r) const { return data + r * row_bytes(); }
};

}  // namespace tenx
