#include "hf_tensor_ops.hpp"

#include <cstring>

#include "tenx/tensor/half.hpp"

namespace tenx::hf {

void permute_rope_rows(const uint8_t* src, uint8_t* dst, int64_t rows, int64_t row_bytes, int64_t n_head) {
  const int64_t d = rows / n_head, half = d / 2;
  for (int64_t h = 0; h < n_head; ++h)
    for (int64_t i = 0; i < half; ++i)
      for (int64_t j = 0; j < 2; ++j)
        std::memcpy(dst + (h * d + 2 * i + j) * row_bytes, src + (h * d + j * half + i) * row_bytes,
                    static_cast<size_t>(row_bytes));
}

std::vector<uint8_t> norm_plus_one(const TensorView& v) {
  const int64_t n = v.elements();
  std::vector<uint8_t> out(static_cast<size_t>(n) * sizeof(float));
  for (int64_t i = 0; i < n; ++i) {
    float x = 0;
    if (v.type == DType::F32) {
      std::memcpy(&x, v.data + i * 4, 4);
      x += 1.0f;
    } else {
      uint16_t h = 0;
      std::memcpy(&h, v.data + i * 2, 2);
      x = v.type == DType::F16 ? f16_to_f32(f32_to_f16(f16_to_f32(h) + 1.0f)) : bf16_to_f32(h) + 1.0f;
    }
    std::memcpy(out.data() + i * 4, &x, 4);
  }
  return out;
}

std::vector<uint8_t> transpose_expert_columns(const TensorView& v, int64_t col_begin, int64_t n) {
  const int64_t cols = v.ne[0], rows = v.ne[1], experts = v.ne[2];
  const int64_t es = v.type == DType::F32 ? 4 : 2;
  std::vector<uint8_t> out(static_cast<size_t>(experts * n * rows * es));
  for (int64_t e = 0; e < experts; ++e)
    for (int64_t c = 0; c < n; ++c)
      for (int64_t r = 0; r < rows; ++r)
        std::memcpy(out.data() + ((e * n + c) * rows + r) * es, v.data + ((e * rows + r) * cols + col_begin + c) * es,
                    static_cast<size_t>(es));
  return out;
}

}  // namespace tenx::hf
