#pragma once
// Quantization blocks: dequantization bit-exact with the layouts in
// docs/gguf-format.md §2, and the reference quantizers of ggml.
// n must be a multiple of the type's block size.
#include <cstdint>
#include <vector>

#include "tenx/tensor/dtype.hpp"
#include "tenx/tensor/view.hpp"

namespace tenx {

// dst[0..n) = the values stored in src (any supported type).
void dequantize_row(DType type, const uint8_t* src, float* dst, int64_t n);

// Every element of t as floats (loaders turn small stored tensors, norms and biases, into F32).
std::vector<float> dequantize(const TensorView& t);

// Writes dtype_row_bytes(type, n) bytes to dst. Supported: F32, F16, BF16, Q8_0, Q4_0,
// Q4_K, Q6_K (throws tenx::Error for others, for NaN/inf, and for K-quant values so
// large that the f16 super-block scale overflows).
void quantize_row(DType type, const float* src, uint8_t* dst, int64_t n);

bool can_quantize_to(DType type);

}  // namespace tenx
