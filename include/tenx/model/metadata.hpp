#pragma once
// GGUF key/value metadata (docs/gguf-format.md §1), kept in file order with
// the exact value types, so a file read and written back is the same.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tenx {

enum class GgufType : int32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6,
  BOOL = 7, STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};
const char* gguf_type_name(GgufType t);

struct GgufValue {
  GgufType type = GgufType::UINT32;
  GgufType array_type = GgufType::UINT8;  // element type when type == ARRAY
  // Scalars: integers and BOOL in `i` (UINT64 as its bit pattern), floats in `f`,
  // STRING in `s`. Arrays: integer/bool elements in `ints`, float elements in
  // `floats`, strings in `strings`.
  int64_t i = 0;
  double f = 0;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<double> floats;
  std::vector<std::string> strings;

  bool is_integer() const;  // any integer scalar type
  bool is_float() const;    // FLOAT32 / FLOAT64 scalar
  size_t array_size() const;

  static GgufValue u32(uint32_t v);
  static GgufValue i32(int32_t v);
  static GgufValue u64(uint64_t v);
  static GgufValue f32(float v);
  static GgufValue f64(double v);
  static GgufValue boolean(bool v);
  static GgufValue str(std::string v);
  static GgufValue str_array(std::vector<std::string> v);
  static GgufValue f32_array(std::vector<double> v);
  static GgufValue i32_array(std::vector<int64_t> v);
};

class Metadata {
 public:
  // Replaces an existing key in place (keeps its position) or appends.
  void set(std::string key, GgufValue value);
  bool erase(std::string_view key);
  const GgufValue* find(std::string_view key) const;
  bool contains(std::string_view key) const { return find(key) != nullptr; }
  size_t size() const { return entries_.size(); }
  const std::vector<std::pair<std::string, GgufValue>>& entries() const { return entries_; }

  // Typed getters: nullopt when absent; throw tenx::Error(subject, ...) naming the
  // key when present with an incompatible type.
  std::optional<uint64_t> get_uint(std::string_view key, const std::string& subject = {}) const;
  std::optional<double> get_float(std::string_view key, const std::string& subject = {}) const;
  std::optional<bool> get_bool(std::string_view key, const std::string& subject = {}) const;
  std::optional<std::string> get_string(std::string_view key, const std::string& subject = {}) const;

 private:
  std::vector<std::pair<std::string, GgufValue>> entries_;
  std::unordered_map<std::string, size_t> index_;
};

}  // namespace tenx
