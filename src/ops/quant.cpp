// Quantization blocks (layouts: docs/gguf-format.md §2). The dequantizers
// follow ggml's dequantize_row_* statement by statement, including the order of
// the float operations (d*sc first, then *q, then -m), so the values are
// bit-identical to llama.cpp's. The quantizers are ggml's *_ref versions.
#include "tenx/ops/quant.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "ops/quant_blocks.hpp"
#include "tenx/tensor/half.hpp"
#include "tenx/util/error.hpp"

namespace tenx {
namespace {

using namespace quant_blocks;


void check_multiple(DType type, int64_t n) {
  const auto& info = dtype_info(type);
  if (n < 0 || n % info.block_elems != 0)
    throw Error(std::string(info.name), "row of " + std::to_string(n) +
                                            " elements is not a multiple of the block size " +
                                            std::to_string(info.block_elems));
}

void dequantize_q4_0(const uint8_t* src, float* dst, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, src += 18, dst += kQK) {
    const float d = f16_to_f32(load_u16(src));
    const uint8_t* qs = src + 2;
    for (int j = 0; j < kQK / 2; ++j) {
      const int x0 = (qs[j] & 0x0F) - 8;
      const int x1 = (qs[j] >> 4) - 8;
      dst[j] = static_cast<float>(x0) * d;
      dst[j + kQK / 2] = static_cast<float>(x1) * d;
    }
  }
}

void dequantize_q8_0(const uint8_t* src, float* dst, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, src += 34, dst += kQK) {
    const float d = f16_to_f32(load_u16(src));
    const int8_t* qs = reinterpret_cast<const int8_t*>(src + 2);
    for (int j = 0; j < kQK; ++j) dst[j] = static_cast<float>(qs[j]) * d;
  }
}


void dequantize_q4_k(const uint8_t* src, float* dst, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, src += 144) {
    const float d = f16_to_f32(load_u16(src));
    const float dmin = f16_to_f32(load_u16(src + 2));
    const uint8_t* scales = src + 4;
    const uint8_t* q = src + 16;
    for (int is = 0; is < 8; is += 2, q += 32) {
      uint8_t sc, m;
      q4_k_scale_min(is, scales, &sc, &m);
      const float d1 = d * sc, m1 = dmin * m;
      q4_k_scale_min(is + 1, scales, &sc, &m);
      const float d2 = d * sc, m2 = dmin * m;
      for (int l = 0; l < 32; ++l) *dst++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) *dst++ = d2 * static_cast<float>(q[l] >> 4) - m2;
    }
  }
}

void dequantize_q6_k(const uint8_t* src, float* dst, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, src += 210) {
    const uint8_t* ql = src;
    const uint8_t* qh = src + 128;
    const int8_t* sc = reinterpret_cast<const int8_t*>(src + 192);
    const float d = f16_to_f32(load_u16(src + 208));
    for (int n = 0; n < kQKK; n += 128, ql += 64, qh += 32, sc += 8, dst += 128) {
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = static_cast<int8_t>((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = static_cast<int8_t>((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = static_cast<int8_t>((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = static_cast<int8_t>((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        dst[l + 0] = d * static_cast<float>(sc[is + 0]) * static_cast<float>(q1);
        dst[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
        dst[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
        dst[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
      }
    }
  }
}


// ggml's quantize_row_q4_0_ref.
void quantize_q4_0(const float* x, uint8_t* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK, y += 18) {
    check_finite_block(DType::Q4_0, x, kQK);
    float amax = 0.0f;  // absolute max
    float max = 0.0f;   // the signed value with that absolute max
    for (int j = 0; j < kQK; ++j) {
      const float v = x[j];
      if (amax < std::fabs(v)) {
        amax = std::fabs(v);
        max = v;
      }
    }
    const float d = max / -8;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    store_u16(y, f32_to_f16(d));
    uint8_t* qs = y + 2;
    for (int j = 0; j < kQK / 2; ++j) {
      const float x0 = x[j] * id;
      const float x1 = x[kQK / 2 + j] * id;
      const int xi0 = std::min<int>(15, static_cast<int8_t>(x0 + 8.5f));
      const int xi1 = std::min<int>(15, static_cast<int8_t>(x1 + 8.5f));
      qs[j] = static_cast<uint8_t>(static_cast<uint8_t>(xi0) | (static_cast<uint8_t>(xi1) << 4));
    }
  }
}

// ggml's quantize_row_q8_0_ref.
void quantize_q8_0(const float* x, uint8_t* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK, y += 34) {
    check_finite_block(DType::Q8_0, x, kQK);
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / ((1 << 7) - 1);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    store_u16(y, f32_to_f16(d));
    int8_t* qs = reinterpret_cast<int8_t*>(y + 2);
    for (int j = 0; j < kQK; ++j) qs[j] = static_cast<int8_t>(std::roundf(x[j] * id));
  }
}

}  // namespace

std::vector<float> dequantize(const TensorView& t) {
  std::vector<float> out(static_cast<size_t>(t.elements()));
  dequantize_row(t.type, t.data, out.data(), t.elements());
  return out;
}

void dequantize_row(DType type, const uint8_t* src, float* dst, int64_t n) {
  check_multiple(type, n);
  switch (type) {
    case DType::F32:
      std::memcpy(dst, src, static_cast<size_t>(n) * 4);
      return;
    case DType::F16:
      for (int64_t i = 0; i < n; ++i) dst[i] = f16_to_f32(load_u16(src + 2 * i));
      return;
    case DType::BF16:
      for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(load_u16(src + 2 * i));
      return;
    case DType::Q4_0: dequantize_q4_0(src, dst, n / kQK); return;
    case DType::Q8_0: dequantize_q8_0(src, dst, n / kQK); return;
    case DType::Q4_K: dequantize_q4_k(src, dst, n / kQKK); return;
    case DType::Q6_K: dequantize_q6_k(src, dst, n / kQKK); return;
  }
  throw Error("dequantize", "unsupported storage type " +
                                std::to_string(static_cast<uint32_t>(type)));
}

void quantize_row(DType type, const float* src, uint8_t* dst, int64_t n) {
  if (!can_quantize_to(type))
    throw Error(std::string(dtype_name(type)),
                "quantizing to this type is not supported (supported: f32, f16, bf16, q8_0, q4_0, q4_k, q6_k)");
  check_multiple(type, n);
  switch (type) {
    case DType::F32:
      std::memcpy(dst, src, static_cast<size_t>(n) * 4);
      return;
    case DType::F16:
      for (int64_t i = 0; i < n; ++i) store_u16(dst + 2 * i, f32_to_f16(src[i]));
      return;
    case DType::BF16:
      for (int64_t i = 0; i < n; ++i) store_u16(dst + 2 * i, f32_to_bf16(src[i]));
      return;
    case DType::Q4_0: quantize_q4_0(src, dst, n / kQK); return;
    case DType::Q8_0: quantize_q8_0(src, dst, n / kQK); return;
    case DType::Q4_K: quantize_q4_k(src, dst, n / kQKK); return;
    case DType::Q6_K: quantize_q6_k(src, dst, n / kQKK); return;
    default: break;
  }
}

bool can_quantize_to(DType type) {
  switch (type) {
    case DType::F32:
    case DType::F16:
    case DType::BF16:
    case DType::Q8_0:
    case DType::Q4_0:
    case DType::Q4_K:
    case DType::Q6_K: return true;
    default: return false;
  }
}

}  // namespace tenx
