// Safetensors reader. The header is untrusted JSON: its length is checked
// against the file before it is parsed, and every tensor's data range is
// checked against the data section and against the other tensors.
#include "tenx/model/safetensors.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "file_mapping.hpp"
#include "tenx/util/error.hpp"

namespace tenx {
namespace {

constexpr uint64_t kMaxHeaderBytes = 100u << 20;  // the safetensors library's own limit

DType parse_dtype(const std::string& path, const std::string& name, const std::string& dtype) {
  if (dtype == "F32") return DType::F32;
  if (dtype == "F16") return DType::F16;
  if (dtype == "BF16") return DType::BF16;
  throw Error(path, fmt::format("tensor '{}' has dtype {}; tenx reads F32, F16 and BF16", name, dtype));
}

uint64_t json_u64(const std::string& path, const std::string& what, const nlohmann::json& j) {
  if (!j.is_number_unsigned()) throw Error(path, fmt::format("{} is not a non-negative integer: {}", what, j.dump()));
  return j.get<uint64_t>();
}

}  // namespace

const SafetensorsTensor* SafetensorsFile::find(std::string_view name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

SafetensorsFile load_safetensors(const std::string& path) {
  auto mapping = map_file_readonly(path);
  if (mapping->size < 8)
    throw Error(path, fmt::format("file truncated: {} bytes, a safetensors file starts with an 8-byte header length",
                                  mapping->size));
  uint64_t header_len = 0;
  std::memcpy(&header_len, mapping->data, 8);
  if (header_len > mapping->size - 8 || header_len > kMaxHeaderBytes)
    throw Error(path, fmt::format("header length {} exceeds the {} bytes after it (or the {} byte limit)", header_len,
                                  mapping->size - 8, kMaxHeaderBytes));
  const auto* begin = reinterpret_cast<const char*>(mapping->data + 8);
  nlohmann::json header = nlohmann::json::parse(begin, begin + header_len, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded()) throw Error(path, "header is not valid JSON");
  if (!header.is_object()) throw Error(path, "header is not a JSON object");

  const uint64_t data_start = 8 + header_len;
  const uint64_t data_size = mapping->size - data_start;
  SafetensorsFile f;
  f.path = path;
  f.file_bytes = mapping->size;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") continue;
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets"))
      throw Error(path, fmt::format("tensor '{}' needs dtype, shape and data_offsets", name));
    if (!entry["dtype"].is_string()) throw Error(path, fmt::format("tensor '{}': dtype is not a string", name));
    SafetensorsTensor t;
    t.name = name;
    t.type = parse_dtype(path, name, entry["dtype"].get<std::string>());
    const auto& shape = entry["shape"];
    if (!shape.is_array() || shape.size() > 4)
      throw Error(path, fmt::format("tensor '{}': shape must be an array of at most 4 dimensions", name));
    uint64_t elements = 1;
    for (const auto& d : shape) {
      const uint64_t n = json_u64(path, fmt::format("tensor '{}' shape entry", name), d);
      if (n > static_cast<uint64_t>(INT64_MAX) || __builtin_mul_overflow(elements, n, &elements))
        throw Error(path, fmt::format("tensor '{}': element count overflows", name));
      t.shape.push_back(static_cast<int64_t>(n));
    }
    const auto& offs = entry["data_offsets"];
    if (!offs.is_array() || offs.size() != 2)
      throw Error(path, fmt::format("tensor '{}': data_offsets must be [begin, end]", name));
    const uint64_t b = json_u64(path, fmt::format("tensor '{}' data_offsets", name), offs[0]);
    const uint64_t e = json_u64(path, fmt::format("tensor '{}' data_offsets", name), offs[1]);
    if (b > e || e > data_size)
      throw Error(path, fmt::format("tensor '{}': data_offsets [{}, {}) lie outside the {}-byte data section", name, b,
                                    e, data_size));
    const uint64_t elem_bytes = static_cast<uint64_t>(dtype_info(t.type).block_bytes);
    if (elements > data_size / elem_bytes || elements * elem_bytes != e - b)
      throw Error(path, fmt::format("tensor '{}': shape needs {} elements of {} bytes but data_offsets span {} bytes",
                                    name, elements, elem_bytes, e - b));
    t.data = mapping->data + data_start + b;
    t.nbytes = e - b;
    f.tensors.push_back(std::move(t));
  }
  std::sort(f.tensors.begin(), f.tensors.end(), [](const auto& x, const auto& y) { return x.data < y.data; });
  for (size_t i = 1; i < f.tensors.size(); ++i) {
    const auto& prev = f.tensors[i - 1];
    if (prev.data + prev.nbytes > f.tensors[i].data)
      throw Error(path, fmt::format("tensors '{}' and '{}' have overlapping data_offsets", prev.name,
                                    f.tensors[i].name));
  }
  f.storage = mapping;
  return f;
}

}  // namespace tenx
