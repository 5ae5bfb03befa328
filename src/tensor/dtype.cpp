#include "tenx/tensor/dtype.hpp"

#include <array>
#include <cctype>
#include <limits>
#include <string>

namespace tenx {
namespace {
constexpr std::array<DTypeInfo, kNumDTypes> kInfos = {{
    {DType::F32, "f32", 1, 4, 0},
    {DType::F16, "f16", 1, 2, 1},
    {DType::BF16, "bf16", 1, 2, 2},
    {DType::Q8_0, "q8_0", 32, 34, 3},
    {DType::Q4_0, "q4_0", 32, 18, 4},
    {DType::Q4_K, "q4_k", 256, 144, 5},
    {DType::Q6_K, "q6_k", 256, 210, 6},
}};
}  // namespace

std::optional<DType> dtype_from_ggml(uint32_t ggml_type) {
  for (const auto& i : kInfos)
    if (static_cast<uint32_t>(i.type) == ggml_type) return i.type;
  return std::nullopt;
}

std::optional<DType> dtype_from_name(std::string_view name) {
  std::string lower(name);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& i : kInfos)
    if (i.name == lower) return i.type;
  return std::nullopt;
}

const DTypeInfo& dtype_info(DType t) {
  for (const auto& i : kInfos)
    if (i.type == t) return i;
  return kInfos[0];  // unreachable for a valid enum value
}

const DTypeInfo& dtype_info_by_slot(int slot) { return kInfos.at(static_cast<size_t>(slot)); }

int64_t dtype_row_bytes(DType t, int64_t n) {
  const auto& i = dtype_info(t);
  if (n < 0 || n % i.block_elems != 0) return -1;
  const int64_t blocks = n / i.block_elems;
  if (blocks > std::numeric_limits<int64_t>::max() / i.block_bytes) return -1;
  return blocks * i.block_bytes;
}

}  // namespace tenx
