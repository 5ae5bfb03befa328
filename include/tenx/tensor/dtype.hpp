#pragma once
// Storage types of tensor data, numbered as ggml_type (docs/gguf-format.md §2).
#include <cstdint>
#include <optional>
#include <string_view>

namespace tenx {

enum class DType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q8_0 = 8,
  Q4_K = 12,
  Q6_K = 14,
  BF16 = 30,
};

inline constexpr int kNumDTypes = 7;  // the types tenx supports (for per-type arrays)

struct DTypeInfo {
  DType type;
  std::string_view name;  // lower-case ggml name: "f32", "q8_0", ...
  int64_t block_elems;    // elements per block
  int64_t block_bytes;    // bytes per block
  int slot;               // 0..kNumDTypes-1, index for per-type arrays
};

// nullopt for a ggml type number that tenx does not support.
std::optional<DType> dtype_from_ggml(uint32_t ggml_type);
std::optional<DType> dtype_from_name(std::string_view name);  // "q8_0", "F16", ...
const DTypeInfo& dtype_info(DType t);
const DTypeInfo& dtype_info_by_slot(int slot);
inline std::string_view dtype_name(DType t) { return dtype_info(t).name; }

// Bytes of n elements (n must be a multiple of the block size; returns -1 otherwise
// or on overflow).
int64_t dtype_row_bytes(DType t, int64_t n);

}  // namespace tenx
