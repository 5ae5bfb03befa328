#include "tenx/model/metadata.hpp"

#include <fmt/format.h>

#include "tenx/util/error.hpp"

namespace tenx {

const char* gguf_type_name(GgufType t) {
  switch (t) {
    case GgufType::UINT8: return "UINT8";
    case GgufType::INT8: return "INT8";
    case GgufType::UINT16: return "UINT16";
    case GgufType::INT16: return "INT16";
    case GgufType::UINT32: return "UINT32";
    case GgufType::INT32: return "INT32";
    case GgufType::FLOAT32: return "FLOAT32";
    case GgufType::BOOL: return "BOOL";
    case GgufType::STRING: return "STRING";
    case GgufType::ARRAY: return "ARRAY";
    case GgufType::UINT64: return "UINT64";
    case GgufType::INT64: return "INT64";
    case GgufType::FLOAT64: return "FLOAT64";
  }
  return "UNKNOWN";
}

bool GgufValue::is_integer() const {
  switch (type) {
    case GgufType::UINT8: case GgufType::INT8: case GgufType::UINT16: case GgufType::INT16:
    case GgufType::UINT32: case GgufType::INT32: case GgufType::UINT64: case GgufType::INT64:
      return true;
    default: return false;
  }
}

bool GgufValue::is_float() const { return type == GgufType::FLOAT32 || type == GgufType::FLOAT64; }

size_t GgufValue::array_size() const {
  if (type != GgufType::ARRAY) return 0;
  if (array_type == GgufType::STRING) return strings.size();
  if (array_type == GgufType::FLOAT32 || array_type == GgufType::FLOAT64) return floats.size();
  return ints.size();
}

GgufValue GgufValue::u32(uint32_t v) { GgufValue x; x.type = GgufType::UINT32; x.i = v; return x; }
GgufValue GgufValue::i32(int32_t v) { GgufValue x; x.type = GgufType::INT32; x.i = v; return x; }
GgufValue GgufValue::u64(uint64_t v) { GgufValue x; x.type = GgufType::UINT64; x.i = static_cast<int64_t>(v); return x; }
GgufValue GgufValue::f32(float v) { GgufValue x; x.type = GgufType::FLOAT32; x.f = v; return x; }
GgufValue GgufValue::f64(double v) { GgufValue x; x.type = GgufType::FLOAT64; x.f = v; return x; }
GgufValue GgufValue::boolean(bool v) { GgufValue x; x.type = GgufType::BOOL; x.i = v ? 1 : 0; return x; }
GgufValue GgufValue::str(std::string v) { GgufValue x; x.type = GgufType::STRING; x.s = std::move(v); return x; }
GgufValue GgufValue::str_array(std::vector<std::string> v) {
  GgufValue x; x.type = GgufType::ARRAY; x.array_type = GgufType::STRING; x.strings = std::move(v); return x;
}
GgufValue GgufValue::f32_array(std::vector<double> v) {
  GgufValue x; x.type = GgufType::ARRAY; x.array_type = GgufType::FLOAT32; x.floats = std::move(v); return x;
}
GgufValue GgufValue::i32_array(std::vector<int64_t> v) {
  GgufValue x; x.type = GgufType::ARRAY; x.array_type = GgufType::INT32; x.ints = std::move(v); return x;
}

void Metadata::set(std::string key, GgufValue value) {
  auto it = index_.find(key);
  if (it != index_.end()) {
    entries_[it->second].second = std::move(value);
    return;
  }
  index_.emplace(key, entries_.size());
  entries_.emplace_back(std::move(key), std::move(value));
}

bool Metadata::erase(std::string_view key) {
  auto it = index_.find(std::string(key));
  if (it == index_.end()) return false;
  entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(it->second));
  index_.clear();
  for (size_t i = 0; i < entries_.size(); ++i) index_.emplace(entries_[i].first, i);
  return true;
}

const GgufValue* Metadata::find(std::string_view key) const {
  auto it = index_.find(std::string(key));
  return it == index_.end() ? nullptr : &entries_[it->second].second;
}

namespace {
[[noreturn]] void wrong_type(const std::string& subject, std::string_view key, const GgufValue& v,
                             const char* wanted) {
  throw Error(subject, fmt::format("metadata key '{}' has type {}, expected {}", key,
                                   gguf_type_name(v.type), wanted));
}
}  // namespace

std::optional<uint64_t> Metadata::get_uint(std::string_view key, const std::string& subject) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_integer()) wrong_type(subject, key, *v, "an integer");
  if (v->type != GgufType::UINT64 && v->i < 0)
    throw Error(subject, fmt::format("metadata key '{}' is negative ({})", key, v->i));
  return static_cast<uint64_t>(v->i);
}

std::optional<double> Metadata::get_float(std::string_view key, const std::string& subject) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_float()) wrong_type(subject, key, *v, "a float");
  return v->f;
}

std::optional<bool> Metadata::get_bool(std::string_view key, const std::string& subject) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != GgufType::BOOL) wrong_type(subject, key, *v, "BOOL");
  return v->i != 0;
}

std::optional<std::string> Metadata::get_string(std::string_view key, const std::string& subject) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != GgufType::STRING) wrong_type(subject, key, *v, "STRING");
  return v->s;
}

}  // namespace tenx
