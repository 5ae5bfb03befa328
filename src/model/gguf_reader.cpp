// GGUF v3 reader (docs/gguf-format.md §1). The file is memory-mapped and the
// tensors are zero-copy views into the mapping. Every count, length and offset
// is checked against the bytes that remain BEFORE it is used, so a hostile or
// truncated file yields a tenx::Error naming the byte offset, never a crash or a
// huge allocation.
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <memory>
#include <new>
#include <unordered_set>

#include "file_mapping.hpp"
#include "tenx/model/model_file.hpp"
#include "tenx/util/error.hpp"

namespace tenx {
namespace {

static_assert(std::endian::native == std::endian::little, "GGUF is little-endian; tenx reads it in place");

constexpr uint32_t kDefaultAlignment = 32;    // GGUF_DEFAULT_ALIGNMENT
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;   // empty key, type, smallest value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;  // empty name, n_dims 0, type, offset

// Size of a fixed-size GGUF value type; 0 for STRING, ARRAY and unknown numbers.
uint64_t scalar_bytes(GgufType t) {
  switch (t) {
    case GgufType::UINT8: case GgufType::INT8: case GgufType::BOOL: return 1;
    case GgufType::UINT16: case GgufType::INT16: return 2;
    case GgufType::UINT32: case GgufType::INT32: case GgufType::FLOAT32: return 4;
    case GgufType::UINT64: case GgufType::INT64: case GgufType::FLOAT64: return 8;
    default: return 0;
  }
}

bool valid_value_type(int32_t t) { return t >= 0 && t <= static_cast<int32_t>(GgufType::FLOAT64); }

// Bounds-checked cursor over the mapped bytes.
class Cursor {
 public:
  Cursor(const std::string& path, const uint8_t* data, uint64_t size) : path_(path), data_(data), size_(size) {}

  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return size_ - pos_; }
  uint64_t size() const { return size_; }

  [[noreturn]] void fail(uint64_t at, const std::string& what) const {
    throw Error(path_, fmt::format("{}, at byte offset {}", what, at));
  }

  void need(uint64_t n, std::string_view what) const {
    if (n > remaining())
      fail(pos_, fmt::format("file truncated: {} needs {} bytes but only {} remain (file size {})", what, n,
                             remaining(), size_));
  }

  template <class T>
  T read(std::string_view what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  std::string read_string(std::string_view what) {
    const uint64_t at = pos_;
    const uint64_t len = read<uint64_t>(what);
    if (len > remaining())
      fail(at, fmt::format("{} has length {} but only {} bytes remain in the file", what, len, remaining()));
    std::string s(reinterpret_cast<const char*>(data_ + pos_), static_cast<size_t>(len));
    pos_ += len;
    return s;
  }

 private:
  const std::string& path_;
  const uint8_t* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
};

// Reads one scalar of a fixed-size type into the integer or float slot.
void read_scalar(Cursor& c, GgufType t, int64_t* i, double* f) {
  switch (t) {
    case GgufType::UINT8: *i = c.read<uint8_t>("UINT8 value"); break;
    case GgufType::INT8: *i = c.read<int8_t>("INT8 value"); break;
    case GgufType::UINT16: *i = c.read<uint16_t>("UINT16 value"); break;
    case GgufType::INT16: *i = c.read<int16_t>("INT16 value"); break;
    case GgufType::UINT32: *i = c.read<uint32_t>("UINT32 value"); break;
    case GgufType::INT32: *i = c.read<int32_t>("INT32 value"); break;
    case GgufType::UINT64: *i = static_cast<int64_t>(c.read<uint64_t>("UINT64 value")); break;
    case GgufType::INT64: *i = c.read<int64_t>("INT64 value"); break;
    case GgufType::BOOL: *i = c.read<uint8_t>("BOOL value") != 0 ? 1 : 0; break;
    case GgufType::FLOAT32: *f = c.read<float>("FLOAT32 value"); break;
    case GgufType::FLOAT64: *f = c.read<double>("FLOAT64 value"); break;
    default: break;  // callers only pass fixed-size types
  }
}

GgufValue read_value(Cursor& c, GgufType type, const std::string& key) {
  GgufValue v;
  v.type = type;
  if (type == GgufType::STRING) {
    v.s = c.read_string(fmt::format("string value of key '{}'", key));
    return v;
  }
  if (type != GgufType::ARRAY) {
    read_scalar(c, type, &v.i, &v.f);
    return v;
  }
  const uint64_t at = c.pos();
  const int32_t raw = c.read<int32_t>("array element type");
  if (!valid_value_type(raw)) c.fail(at, fmt::format("key '{}': unknown array element type {}", key, raw));
  const auto elem = static_cast<GgufType>(raw);
  if (elem == GgufType::ARRAY) c.fail(at, fmt::format("key '{}': nested arrays are not supported", key));
  v.array_type = elem;
  const uint64_t count = c.read<uint64_t>("array length");
  const uint64_t min_elem = elem == GgufType::STRING ? 8 : scalar_bytes(elem);
  if (count > c.remaining() / min_elem)
    c.fail(at, fmt::format("key '{}': array of {} {} elements cannot fit in the {} bytes left in the file", key,
                           count, gguf_type_name(elem), c.remaining()));
  // Grown as elements are read (reserving at most 1M up front): a count that
  // passed the size check above can still be a lie about the rest of the file.
  const size_t first = static_cast<size_t>(std::min<uint64_t>(count, 1u << 20));
  if (elem == GgufType::STRING) {
    v.strings.reserve(first);
    for (uint64_t k = 0; k < count; ++k) v.strings.push_back(c.read_string(fmt::format("element {} of key '{}'", k, key)));
  } else if (elem == GgufType::FLOAT32 || elem == GgufType::FLOAT64) {
    v.floats.reserve(first);
    int64_t unused = 0;
    for (uint64_t k = 0; k < count; ++k) read_scalar(c, elem, &unused, &v.floats.emplace_back());
  } else {
    v.ints.reserve(first);
    double unused = 0;
    for (uint64_t k = 0; k < count; ++k) read_scalar(c, elem, &v.ints.emplace_back(), &unused);
  }
  return v;
}

struct TensorInfo {
  TensorView view;
  uint64_t offset = 0;    // relative to the data section
  uint64_t info_pos = 0;  // where its description starts (for messages)
};

TensorInfo read_tensor_info(Cursor& c, std::unordered_set<std::string>& names) {
  TensorInfo ti;
  ti.info_pos = c.pos();
  TensorView& t = ti.view;
  t.name = c.read_string("tensor name");
  if (t.name.size() >= kGgufMaxTensorName)
    c.fail(ti.info_pos, fmt::format("tensor name '{}' is {} bytes long, the limit is {}", t.name.substr(0, 80),
                                    t.name.size(), kGgufMaxTensorName - 1));
  if (!names.insert(t.name).second) c.fail(ti.info_pos, fmt::format("duplicate tensor name '{}'", t.name));
  const uint32_t n_dims = c.read<uint32_t>("tensor n_dims");
  if (n_dims > 4) c.fail(ti.info_pos, fmt::format("tensor '{}' has n_dims {} (at most 4)", t.name, n_dims));
  t.n_dims = static_cast<int>(n_dims);
  int64_t elements = 1;
  for (uint32_t d = 0; d < n_dims; ++d) {
    const int64_t ne = c.read<int64_t>("tensor dimension");
    if (ne < 0) c.fail(ti.info_pos, fmt::format("tensor '{}' has negative dimension ne[{}] = {}", t.name, d, ne));
    if (__builtin_mul_overflow(elements, ne, &elements))
      c.fail(ti.info_pos, fmt::format("tensor '{}': element count overflows 64 bits", t.name));
    t.ne[d] = ne;
  }
  const uint64_t type_pos = c.pos();
  const int32_t raw_type = c.read<int32_t>("tensor type");
  const auto type = dtype_from_ggml(static_cast<uint32_t>(raw_type));
  if (raw_type < 0 || !type)
    c.fail(type_pos, fmt::format("unsupported tensor type {} (tensor '{}'; tenx reads f32, f16, bf16, q8_0, q4_0, "
                                 "q4_k, q6_k)", raw_type, t.name));
  t.type = *type;
  const auto& info = dtype_info(t.type);
  if (t.ne[0] % info.block_elems != 0)
    c.fail(ti.info_pos, fmt::format("tensor '{}': ne[0] = {} is not a multiple of the {} block size {}", t.name,
                                    t.ne[0], info.name, info.block_elems));
  const int64_t row = dtype_row_bytes(t.type, t.ne[0]);
  // Rows on their own: with ne[0] = 0 the element count above is 0 whatever the other
  // dimensions are, so their product has not been checked yet (fuzz finding).
  int64_t rows = 1;
  for (int d = 1; d < 4; ++d)
    if (__builtin_mul_overflow(rows, t.ne[d], &rows))
      c.fail(ti.info_pos, fmt::format("tensor '{}': row count overflows 64 bits", t.name));
  int64_t nbytes = 0;
  if (row < 0 || __builtin_mul_overflow(row, rows, &nbytes))
    c.fail(ti.info_pos, fmt::format("tensor '{}': byte size overflows 64 bits", t.name));
  t.nbytes = static_cast<uint64_t>(nbytes);
  ti.offset = c.read<uint64_t>("tensor data offset");
  return ti;
}

// Parses the GGUF bytes [data, data + size); `storage` owns them and is kept alive by the result.
ModelFile parse_gguf(const std::string& path, const uint8_t* data, uint64_t size, std::shared_ptr<const void> storage) {
  Cursor c(path, data, size);

  c.need(4, "magic");
  if (std::memcmp(data, "GGUF", 4) != 0) {
    const uint8_t* m = data;
    c.fail(0, fmt::format("not a GGUF file (magic bytes {:02x} {:02x} {:02x} {:02x}, expected \"GGUF\")", m[0], m[1],
                          m[2], m[3]));
  }
  c.read<uint32_t>("magic");
  const uint32_t version = c.read<uint32_t>("version");
  if (version != 3) {
    const bool swapped = (version & 0xFFFFu) == 0 && version != 0;
    c.fail(4, fmt::format("GGUF version {} is not supported (tenx reads version 3){}", version,
                          swapped ? "; the file looks big-endian" : ""));
  }
  const int64_t n_tensors = c.read<int64_t>("tensor count");
  if (n_tensors < 0) c.fail(8, fmt::format("negative tensor count {}", n_tensors));
  const int64_t n_kv = c.read<int64_t>("key/value count");
  if (n_kv < 0) c.fail(16, fmt::format("negative key/value count {}", n_kv));
  if (static_cast<uint64_t>(n_kv) > c.remaining() / kMinKvBytes)
    c.fail(16, fmt::format("key/value count {} cannot fit in the {} bytes left in the file", n_kv, c.remaining()));
  if (static_cast<uint64_t>(n_tensors) > c.remaining() / kMinTensorInfoBytes)
    c.fail(8, fmt::format("tensor count {} cannot fit in the {} bytes left in the file", n_tensors, c.remaining()));

  ModelFile mf;
  mf.path = path;
  mf.file_bytes = size;
  uint32_t alignment = kDefaultAlignment;
  for (int64_t k = 0; k < n_kv; ++k) {
    const uint64_t at = c.pos();
    std::string key = c.read_string("key");
    if (mf.meta.contains(key)) c.fail(at, fmt::format("duplicate key '{}'", key));
    const uint64_t type_pos = c.pos();
    const int32_t raw = c.read<int32_t>("value type");
    if (!valid_value_type(raw)) c.fail(type_pos, fmt::format("key '{}' has unknown value type {}", key, raw));
    GgufValue v = read_value(c, static_cast<GgufType>(raw), key);
    if (key == "general.alignment") {
      if (v.type != GgufType::UINT32)
        c.fail(at, fmt::format("general.alignment has type {}, expected UINT32", gguf_type_name(v.type)));
      if (v.i == 0 || (v.i & (v.i - 1)) != 0)
        c.fail(at, fmt::format("general.alignment {} is not a nonzero power of two", v.i));
      alignment = static_cast<uint32_t>(v.i);
    }
    mf.meta.set(std::move(key), std::move(v));
  }

  std::vector<TensorInfo> infos;  // not reserved from n_tensors: memory follows the bytes actually read
  std::unordered_set<std::string> names;
  for (int64_t k = 0; k < n_tensors; ++k) infos.push_back(read_tensor_info(c, names));

  // The data section starts at the next multiple of the alignment; a vocab-only
  // file may end before it.
  const uint64_t data_start = (c.pos() + alignment - 1) / alignment * alignment;
  uint64_t expected = 0;
  for (auto& ti : infos) {
    const auto& t = ti.view;
    if (ti.offset % alignment != 0)
      c.fail(ti.info_pos, fmt::format("tensor '{}' has data offset {}, not a multiple of the alignment {}", t.name,
                                      ti.offset, alignment));
    if (ti.offset != expected)
      c.fail(ti.info_pos, fmt::format("tensor '{}' has data offset {}, expected {} (offsets must be the running sum "
                                      "of the padded tensor sizes; overlapping or gapped data)", t.name, ti.offset,
                                      expected));
    if (data_start > c.size() || ti.offset > c.size() - data_start || t.nbytes > c.size() - data_start - ti.offset)
      c.fail(ti.info_pos, fmt::format("data of tensor '{}' ({} bytes at absolute offset {}) extends past the end of the "
                                      "file ({} bytes)", t.name, t.nbytes, data_start + ti.offset, c.size()));
    expected = ti.offset + (t.nbytes + alignment - 1) / alignment * alignment;
    ti.view.data = data + data_start + ti.offset;
  }
  mf.tensors.reserve(infos.size());
  for (auto& ti : infos) mf.tensors.push_back(std::move(ti.view));
  mf.storage = std::move(storage);
  return mf;
}

}  // namespace

ModelFile load_gguf(const std::string& path) {
  auto mapping = map_file_readonly(path);
  const uint8_t* data = mapping->data;
  const uint64_t size = mapping->size;
  return parse_gguf(path, data, size, std::move(mapping));
}

ModelFile load_gguf_bytes(const std::string& subject, std::string_view bytes) {
  // A 64-byte aligned copy, like a mapping's page alignment, so tensor views are aligned as in a file.
  constexpr std::align_val_t kAlign{64};
  const size_t n = bytes.size();
  std::shared_ptr<uint8_t> copy(static_cast<uint8_t*>(::operator new(n == 0 ? 1 : n, kAlign)),
                                [](uint8_t* p) { ::operator delete(p, kAlign); });
  if (n > 0) std::memcpy(copy.get(), bytes.data(), n);
  const uint8_t* data = n == 0 ? nullptr : copy.get();
  return parse_gguf(subject, data, n, std::move(copy));
}

}  // namespace tenx
