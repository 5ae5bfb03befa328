// Tensor-by-tensor re-storage through float32: dequantize_row the source row,
// quantize_row into the target (the ggml reference quantizers). Tensors already
// in their target type are passed through untouched (zero-copy).
#include "tenx/model/quantize_model.hpp"

#include <fmt/format.h>

#include <map>

#include "tenx/ops/quant.hpp"
#include "tenx/util/error.hpp"

namespace tenx {
namespace {

struct QuantizedStorage {
  std::shared_ptr<const void> source;
  std::vector<std::vector<uint8_t>> buffers;
};

bool is_quantized(DType t) { return t == DType::Q4_0 || t == DType::Q8_0 || t == DType::Q4_K || t == DType::Q6_K; }

}  // namespace

uint32_t gguf_file_type(DType t) {
  switch (t) {
    case DType::F32: return 0;
    case DType::F16: return 1;
    case DType::Q4_0: return 2;
    case DType::Q8_0: return 7;
    case DType::Q4_K: return 15;  // LLAMA_FTYPE_MOSTLY_Q4_K_M (tenx's is llama-quantize --pure: every matrix q4_k)
    case DType::Q6_K: return 18;  // LLAMA_FTYPE_MOSTLY_Q6_K
    case DType::BF16: return 32;
  }
  return 0;
}

DType storage_type_for(const TensorView& t, std::optional<DType> target) {
  if (t.n_dims < 2) return DType::F32;  // norms and biases: tiny, and precision-critical
  // A mixture's router decides which experts run: llama-quantize keeps it F32, and so does tenx.
  if (t.name.ends_with("ffn_gate_inp.weight")) return DType::F32;
  DType want = target.value_or(t.type);
  // K-quant rows must be whole 256-element super-blocks. llama.cpp then falls back to
  // q5_0 (for q4_k) or q8_0 (for q6_k); tenx writes no q5_0, so both take q8_0.
  if ((want == DType::Q4_K || want == DType::Q6_K) && t.ne[0] % dtype_info(want).block_elems != 0)
    want = DType::Q8_0;
  if (t.ne[0] % dtype_info(want).block_elems != 0) return DType::F16;
  return want;
}

QuantizedModel quantize_model(const ModelFile& in, std::optional<DType> target) {
  if (target && !can_quantize_to(*target))
    throw Error(in.path, fmt::format("cannot quantize to {} (tenx writes f32, f16, bf16, q8_0, q4_0, q4_k, q6_k)",
                                     dtype_name(*target)));
  auto storage = std::make_shared<QuantizedStorage>();
  storage->source = in.storage;
  QuantizedModel out;
  out.model.path = in.path;
  out.model.meta = in.meta;
  std::vector<float> row;
  std::map<DType, int64_t> matrix_elements;  // for general.file_type: the type of most weights
  for (const TensorView& t : in.tensors) {
    TensorConversion conv{t.name, t.type, storage_type_for(t, target), t.elements(), t.nbytes, t.nbytes};
    TensorView v = t;
    if (conv.to != t.type) {
      const int64_t n = t.ne[0];
      const int64_t out_row = dtype_row_bytes(conv.to, n);
      auto& buf = storage->buffers.emplace_back(static_cast<size_t>(out_row * t.rows()));
      row.resize(static_cast<size_t>(n));
      try {
        for (int64_t r = 0; r < t.rows(); ++r) {
          dequantize_row(t.type, t.row(r), row.data(), n);
          quantize_row(conv.to, row.data(), buf.data() + r * out_row, n);
        }
      } catch (const Error& e) {
        throw Error(in.path, fmt::format("tensor '{}': {}", t.name, e.what()));
      }
      v.type = conv.to;
      v.data = buf.data();
      v.nbytes = buf.size();
      conv.bytes_out = v.nbytes;
    }
    if (v.n_dims >= 2) matrix_elements[v.type] += v.elements();
    out.bytes_in += conv.bytes_in;
    out.bytes_out += conv.bytes_out;
    out.conversions.push_back(conv);
    out.model.tensors.push_back(std::move(v));
  }
  DType mostly = DType::F32;
  int64_t best = -1;
  for (const auto& [type, count] : matrix_elements)
    if (count > best) best = count, mostly = type;
  out.model.meta.set("general.file_type", GgufValue::u32(gguf_file_type(mostly)));
  bool any_quantized = false;
  for (const auto& t : out.model.tensors) any_quantized |= is_quantized(t.type);
  if (any_quantized) out.model.meta.set("general.quantization_version", GgufValue::u32(2));
  else out.model.meta.erase("general.quantization_version");
  out.model.storage = storage;
  out.model.file_bytes = 0;  // not on disk yet
  return out;
}

}  // namespace tenx
