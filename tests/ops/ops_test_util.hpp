#pragma once
// Helpers of the ops tests: random data, weights of any storage type, and
// buffers deliberately misaligned by one float.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "tenx/ops/quant.hpp"
#include "tenx/tensor/half.hpp"
#include "tenx/tensor/view.hpp"

namespace tenx::testing {

inline std::vector<float> random_floats(std::mt19937& rng, int64_t n, float scale = 1.0f) {
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = dist(rng);
  return v;
}

// A float buffer whose data() is offset by one float from the allocation, so
// kernels see pointers that are not 8-, 16-, 32- or 64-byte aligned.
struct Misaligned {
  explicit Misaligned(int64_t n, float fill = 0.0f) : storage(static_cast<size_t>(n) + 1, fill) {}
  Misaligned(const std::vector<float>& v) : storage(v.size() + 1) {
    std::copy(v.begin(), v.end(), storage.begin() + 1);
  }
  float* data() { return storage.data() + 1; }
  const float* data() const { return storage.data() + 1; }
  float& operator[](size_t i) { return storage[i + 1]; }
  std::vector<float> storage;
};

// A weight with ne = {in, out} that owns its bytes. F16/BF16/Q8_0/Q4_0 are
// quantized from random floats; Q4_K / Q6_K get random blocks with small
// scales, which exercises every bit of the layouts. The
// bytes start `offset` bytes past an aligned allocation (GGUF data is usually
// aligned, but a file may use any alignment).
struct OwnedWeight {
  std::vector<uint8_t> bytes;
  TensorView view;
};

inline OwnedWeight make_weight(std::mt19937& rng, DType type, int64_t in, int64_t out, int offset = 0,
                               float scale = 0.5f) {
  OwnedWeight w;
  const int64_t row_bytes = dtype_row_bytes(type, in);
  w.bytes.resize(static_cast<size_t>(row_bytes * out + offset));
  uint8_t* data = w.bytes.data() + offset;
  // K-quants get random bytes even though tenx can quantize to them: random scales
  // and levels reach every bit of the layout, real rows only some of them.
  if (can_quantize_to(type) && type != DType::Q4_K && type != DType::Q6_K) {
    for (int64_t r = 0; r < out; ++r) {
      const auto row = random_floats(rng, in, scale);
      quantize_row(type, row.data(), data + r * row_bytes, in);
    }
  } else {
    std::uniform_int_distribution<int> byte(0, 255);
    for (int64_t i = 0; i < row_bytes * out; ++i) data[i] = static_cast<uint8_t>(byte(rng));
    const int64_t block_bytes = dtype_info(type).block_bytes;
    for (int64_t b = 0; b < row_bytes * out; b += block_bytes) {
      const uint16_t d = f32_to_f16(0.01f);
      if (type == DType::Q4_K) {
        std::memcpy(data + b, &d, 2);
        const uint16_t dmin = f32_to_f16(0.02f);
        std::memcpy(data + b + 2, &dmin, 2);
      } else {
        std::memcpy(data + b + 208, &d, 2);
      }
    }
  }
  w.view.name = "test.weight";
  w.view.type = type;
  w.view.n_dims = 2;
  w.view.ne = {in, out, 1, 1};
  w.view.data = data;
  w.view.nbytes = static_cast<uint64_t>(row_bytes * out);
  return w;
}

// Worst-case rounding bound of a float dot product of length k whose terms
// have absolute sum abs_sum: (k + slack) * 2^-24 * abs_sum.
inline double dot_tolerance(int64_t k, double abs_sum) {
  return static_cast<double>(k + 16) * std::ldexp(1.0, -24) * abs_sum + 1e-30;
}

}  // namespace tenx::testing
