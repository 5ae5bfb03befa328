// quantize_model: which tensors change type, error bounds of the quantized
// weights against block maxima computed here, exact f16/bf16 rounding, and the
// general.file_type / quantization_version keys.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "tenx/model/model_init.hpp"
#include "tenx/model/quantize_model.hpp"
#include "tenx/ops/quant.hpp"
#include "tenx/tensor/half.hpp"
#include "test_util.hpp"

namespace tenx {
namespace {

ModelFile small_model(DType type = DType::F32) {
  ModelInitSpec s;
  s.n_embd = 64, s.n_layer = 1, s.n_head = 4, s.n_ff = 96, s.n_vocab = 300, s.seed = 5, s.type = type;
  return make_random_model(s);
}

const float* floats(const TensorView& t) { return reinterpret_cast<const float*>(t.data); }

TEST(QuantizeModel, Q8_0MatricesWithinHalfAStepOfTheBlockScale) {
  const ModelFile f32 = small_model();
  const QuantizedModel q = quantize_model(f32, DType::Q8_0);
  ASSERT_EQ(q.model.tensors.size(), f32.tensors.size());
  EXPECT_EQ(q.model.meta.get_uint("general.file_type"), 7u);
  EXPECT_EQ(q.model.meta.get_uint("general.quantization_version"), 2u);
  for (size_t k = 0; k < f32.tensors.size(); ++k) {
    const TensorView& src = f32.tensors[k];
    const TensorView& dst = q.model.tensors[k];
    EXPECT_EQ(dst.name, src.name);
    EXPECT_EQ(q.conversions[k].from, DType::F32);
    if (src.n_dims == 1) {
      EXPECT_EQ(dst.type, DType::F32) << dst.name;
      EXPECT_EQ(std::memcmp(dst.data, src.data, src.nbytes), 0);
      continue;
    }
    EXPECT_EQ(dst.type, DType::Q8_0) << dst.name;
    EXPECT_EQ(dst.nbytes, static_cast<uint64_t>(src.elements() / 32 * 34));
    std::vector<float> back(static_cast<size_t>(src.ne[0]));
    for (int64_t r = 0; r < src.rows(); ++r) {
      dequantize_row(DType::Q8_0, dst.row(r), back.data(), src.ne[0]);
      const float* x = floats(src) + r * src.ne[0];
      for (int64_t b = 0; b < src.ne[0]; b += 32) {
        float amax = 0;
        for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[b + j]));
        const float step = amax / 127.0f;  // q = round(x / step): error at most step / 2 (+ f16 scale rounding)
        for (int j = 0; j < 32; ++j) ASSERT_LE(std::fabs(back[b + j] - x[b + j]), 0.5f * step + 1e-3f * amax) << dst.name;
      }
    }
  }
  EXPECT_LT(q.bytes_out, q.bytes_in / 3);
}

TEST(QuantizeModel, F16AndBf16RoundEachValueToNearest) {
  const ModelFile f32 = small_model();
  for (DType t : {DType::F16, DType::BF16}) {
    const QuantizedModel q = quantize_model(f32, t);
    EXPECT_EQ(q.model.meta.get_uint("general.file_type"), t == DType::F16 ? 1u : 32u);
    EXPECT_FALSE(q.model.meta.contains("general.quantization_version"));
    const TensorView& src = *f32.find("blk.0.ffn_up.weight");
    const TensorView& dst = *q.model.find("blk.0.ffn_up.weight");
    ASSERT_EQ(dst.type, t);
    for (int64_t i = 0; i < src.elements(); ++i) {
      uint16_t h;
      std::memcpy(&h, dst.data + 2 * i, 2);
      const float x = floats(src)[i];
      const float y = t == DType::F16 ? f16_to_f32(h) : bf16_to_f32(h);
      // Nearest: no representable neighbour is closer (checked with the adjacent encodings).
      for (int d : {-1, 1}) {
        const uint16_t n = static_cast<uint16_t>(h + d);
        const float z = t == DType::F16 ? f16_to_f32(n) : bf16_to_f32(n);
        ASSERT_LE(std::fabs(y - x), std::fabs(z - x)) << i;
      }
    }
  }
}

TEST(QuantizeModel, FallbacksAndRequantization) {
  // ffn_down rows of 80 elements are not a multiple of the 32-element block: F16 instead.
  ModelInitSpec s;
  s.n_embd = 64, s.n_layer = 1, s.n_head = 4, s.n_ff = 80, s.n_vocab = 300, s.seed = 5;
  const ModelFile f32 = make_random_model(s);
  const QuantizedModel q = quantize_model(f32, DType::Q4_0);
  EXPECT_EQ(q.model.find("blk.0.ffn_down.weight")->type, DType::F16);
  EXPECT_EQ(q.model.find("blk.0.ffn_up.weight")->type, DType::Q4_0);
  EXPECT_EQ(q.model.meta.get_uint("general.file_type"), 2u);
  // Back to f16 from q4_0: values are the q4_0 values, quantization_version goes away.
  const QuantizedModel h = quantize_model(q.model, DType::F16);
  EXPECT_FALSE(h.model.meta.contains("general.quantization_version"));
  std::vector<float> a(64);
  dequantize_row(DType::Q4_0, q.model.find("blk.0.attn_q.weight")->row(3), a.data(), 64);
  for (int i = 0; i < 64; ++i) {
    uint16_t v;
    std::memcpy(&v, h.model.find("blk.0.attn_q.weight")->row(3) + 2 * i, 2);
    EXPECT_EQ(f16_to_f32(v), f16_to_f32(f32_to_f16(a[i])));
  }
  // Keeping types (convert's default): untouched tensors are shared, not copied.
  const QuantizedModel keep = quantize_model(q.model, std::nullopt);
  EXPECT_EQ(keep.model.find("blk.0.attn_q.weight")->data, q.model.find("blk.0.attn_q.weight")->data);
}

TEST(QuantizeModel, KQuantsWithQ8_0AndF16Fallbacks) {
  // dim 256, ffn 320: rows of 256 take the K-quant; ffn_down's rows of 320 are not whole
  // 256-element super-blocks and fall back to q8_0 (llama.cpp: q5_0 for q4_k, q8_0 for q6_k;
  // tenx writes no q5_0); rows of 80 are not even whole 32-element blocks: f16.
  ModelInitSpec s;
  s.n_embd = 256, s.n_layer = 1, s.n_head = 4, s.n_ff = 320, s.n_vocab = 300, s.seed = 9;
  const ModelFile f32 = make_random_model(s);
  for (DType t : {DType::Q4_K, DType::Q6_K}) {
    const QuantizedModel q = quantize_model(f32, t);
    EXPECT_EQ(q.model.meta.get_uint("general.file_type"), t == DType::Q4_K ? 15u : 18u);
    EXPECT_EQ(q.model.meta.get_uint("general.quantization_version"), 2u);
    for (const char* name : {"token_embd.weight", "output.weight", "blk.0.attn_q.weight", "blk.0.attn_k.weight",
                             "blk.0.ffn_up.weight", "blk.0.ffn_gate.weight"})
      EXPECT_EQ(q.model.find(name)->type, t) << name;
    EXPECT_EQ(q.model.find("blk.0.ffn_down.weight")->type, DType::Q8_0);
    EXPECT_EQ(q.model.find("blk.0.attn_norm.weight")->type, DType::F32);
    // The stored values are the quantizer's (quantize_row then dequantize_row, row by row).
    const TensorView& src = *f32.find("blk.0.attn_v.weight");
    const TensorView& dst = *q.model.find("blk.0.attn_v.weight");
    ASSERT_EQ(dst.type, t);
    std::vector<uint8_t> want(static_cast<size_t>(dtype_row_bytes(t, 256)));
    for (int64_t r = 0; r < src.rows(); ++r) {
      quantize_row(t, floats(src) + r * 256, want.data(), 256);
      ASSERT_EQ(std::memcmp(dst.row(r), want.data(), want.size()), 0) << dtype_name(t) << " row " << r;
    }
  }
  TensorView t;
  t.n_dims = 2, t.ne = {80, 8, 1, 1};
  EXPECT_EQ(storage_type_for(t, DType::Q4_K), DType::F16);
  t.ne = {96, 8, 1, 1};
  EXPECT_EQ(storage_type_for(t, DType::Q6_K), DType::Q8_0);
  t.ne = {512, 8, 1, 1};
  EXPECT_EQ(storage_type_for(t, DType::Q6_K), DType::Q6_K);
  EXPECT_EQ(gguf_file_type(DType::Q6_K), 18u);
}

TEST(QuantizeModel, StorageTypeRules) {
  TensorView t;
  t.n_dims = 1, t.ne = {64, 1, 1, 1}, t.type = DType::BF16;
  EXPECT_EQ(storage_type_for(t, DType::Q8_0), DType::F32);
  EXPECT_EQ(storage_type_for(t, std::nullopt), DType::F32);
  t.n_dims = 2, t.ne = {64, 8, 1, 1};
  EXPECT_EQ(storage_type_for(t, DType::Q8_0), DType::Q8_0);
  EXPECT_EQ(storage_type_for(t, std::nullopt), DType::BF16);
  t.ne = {48, 8, 1, 1};
  EXPECT_EQ(storage_type_for(t, DType::Q4_0), DType::F16);
  EXPECT_EQ(gguf_file_type(DType::BF16), 32u);
  EXPECT_EQ(gguf_file_type(DType::Q8_0), 7u);
}

}  // namespace
}  // namespace tenx
