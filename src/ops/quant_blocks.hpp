#pragma once
// Pieces of the block formats shared by the quantizers and dequantizers
// (quant.cpp) and ggml's K-quant quantizers (quant_kquant.cpp). Internal to src/ops.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#include "tenx/tensor/dtype.hpp"
#include "tenx/util/error.hpp"

namespace tenx::quant_blocks {

constexpr int kQK = 32;    // elements per Q4_0 / Q8_0 block
constexpr int kQKK = 256;  // elements per K-quant super-block

inline uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

inline void store_u16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }

// The 6-bit scale and min of sub-block j (0..7) of a Q4_K super-block: ggml's get_scale_min_k4.
inline void q4_k_scale_min(int j, const uint8_t* s, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = s[j] & 63;
    *m = s[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
  }
}

// A NaN or infinity would make the float->int8 conversions below undefined
// behaviour (ggml does not check); refuse it with a clear error instead.
inline void check_finite_block(DType type, const float* x, int n) {
  for (int j = 0; j < n; ++j)
    if (!std::isfinite(x[j]))
      throw Error(std::string(dtype_name(type)), "cannot quantize a non-finite value (" +
                                                     std::to_string(x[j]) + ")");
}

// ggml's quantize_row_q4_K_ref / quantize_row_q6_K_ref over nb super-blocks (quant_kquant.cpp).
void quantize_q4_k(const float* x, uint8_t* y, int64_t nb);
void quantize_q6_k(const float* x, uint8_t* y, int64_t nb);

}  // namespace tenx::quant_blocks
