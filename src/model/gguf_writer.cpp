// GGUF v3 writer: exactly the layout llama.cpp's strict reader expects
// (docs/gguf-format.md §1): KV pairs in order, tensor infos whose offsets are
// the running sum of the sizes padded to the alignment, zero padding before the
// data section and after every tensor. Written to a temporary file beside the
// target and renamed, so a crash never leaves half a model under the real name
// (and writing over the file being read is safe: its mapping stays valid).
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <unordered_set>

#include "tenx/model/model_file.hpp"
#include "tenx/util/error.hpp"

namespace tenx {
namespace {


class GgufSink {
 public:
  GgufSink(const std::string& path, const std::string& tmp) : path_(path) {
    file_ = std::fopen(tmp.c_str(), "wb");
    if (!file_) throw Error(path, fmt::format("cannot create {}: {}", tmp, std::strerror(errno)));
    std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
  }
  ~GgufSink() { if (file_) std::fclose(file_); }
  GgufSink(const GgufSink&) = delete;
  GgufSink& operator=(const GgufSink&) = delete;

  void bytes(const void* p, size_t n) {
    if (n > 0 && std::fwrite(p, 1, n, file_) != n) throw Error(path_, fmt::format("write failed: {}", std::strerror(errno)));
    pos_ += n;
  }
  template <class T>
  void put(T v) { bytes(&v, sizeof(T)); }
  void str(const std::string& s) {
    put<uint64_t>(s.size());
    bytes(s.data(), s.size());
  }
  void pad_to(uint64_t alignment) {
    static const uint8_t zeros[256] = {};
    uint64_t n = (alignment - pos_ % alignment) % alignment;
    while (n > 0) {
      const uint64_t k = n < sizeof(zeros) ? n : sizeof(zeros);
      bytes(zeros, k);
      n -= k;
    }
  }
  void close() {
    const bool ok = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
    const int err = errno;
    std::fclose(file_);
    file_ = nullptr;
    if (!ok) throw Error(path_, fmt::format("write failed: {}", std::strerror(err)));
  }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  uint64_t pos_ = 0;
};

void put_scalar(GgufSink& out, GgufType t, int64_t i, double f, const std::string& path, const std::string& key) {
  switch (t) {
    case GgufType::UINT8: out.put<uint8_t>(static_cast<uint8_t>(i)); break;
    case GgufType::INT8: out.put<int8_t>(static_cast<int8_t>(i)); break;
    case GgufType::UINT16: out.put<uint16_t>(static_cast<uint16_t>(i)); break;
    case GgufType::INT16: out.put<int16_t>(static_cast<int16_t>(i)); break;
    case GgufType::UINT32: out.put<uint32_t>(static_cast<uint32_t>(i)); break;
    case GgufType::INT32: out.put<int32_t>(static_cast<int32_t>(i)); break;
    case GgufType::UINT64: out.put<uint64_t>(static_cast<uint64_t>(i)); break;
    case GgufType::INT64: out.put<int64_t>(i); break;
    case GgufType::BOOL: out.put<uint8_t>(i != 0 ? 1 : 0); break;
    case GgufType::FLOAT32: out.put<float>(static_cast<float>(f)); break;
    case GgufType::FLOAT64: out.put<double>(f); break;
    default: throw Error(path, fmt::format("key '{}': {} is not a scalar type", key, gguf_type_name(t)));
  }
}

void put_value(GgufSink& out, const GgufValue& v, const std::string& path, const std::string& key) {
  out.put<int32_t>(static_cast<int32_t>(v.type));
  if (v.type == GgufType::STRING) return out.str(v.s);
  if (v.type != GgufType::ARRAY) return put_scalar(out, v.type, v.i, v.f, path, key);
  if (v.array_type == GgufType::ARRAY) throw Error(path, fmt::format("key '{}': nested arrays are not supported", key));
  out.put<int32_t>(static_cast<int32_t>(v.array_type));
  out.put<uint64_t>(v.array_size());
  if (v.array_type == GgufType::STRING) {
    for (const auto& s : v.strings) out.str(s);
  } else if (v.array_type == GgufType::FLOAT32 || v.array_type == GgufType::FLOAT64) {
    for (double f : v.floats) put_scalar(out, v.array_type, 0, f, path, key);
  } else {
    for (int64_t i : v.ints) put_scalar(out, v.array_type, i, 0, path, key);
  }
}

// Rejects what the reader (and llama.cpp) would reject, before anything is written.
void check_tensors(const std::string& path, const std::vector<TensorView>& tensors) {
  std::unordered_set<std::string> names;
  for (const auto& t : tensors) {
    if (t.name.size() >= kGgufMaxTensorName)
      throw Error(path, fmt::format("tensor name '{}' is longer than {} bytes", t.name, kGgufMaxTensorName - 1));
    if (!names.insert(t.name).second) throw Error(path, fmt::format("duplicate tensor name '{}'", t.name));
    if (t.n_dims < 0 || t.n_dims > 4) throw Error(path, fmt::format("tensor '{}' has n_dims {}", t.name, t.n_dims));
    for (int d = 0; d < 4; ++d)
      if (t.ne[d] < 0 || (d >= t.n_dims && t.ne[d] != 1))
        throw Error(path, fmt::format("tensor '{}' has invalid ne[{}] = {}", t.name, d, t.ne[d]));
    const int64_t row = t.row_bytes();
    if (row < 0)
      throw Error(path, fmt::format("tensor '{}': ne[0] = {} is not a multiple of the {} block size", t.name, t.ne[0],
                                    dtype_name(t.type)));
    if (static_cast<uint64_t>(row * t.rows()) != t.nbytes)
      throw Error(path, fmt::format("tensor '{}' holds {} bytes but its shape and type need {}", t.name, t.nbytes,
                                    row * t.rows()));
    if (t.nbytes > 0 && t.data == nullptr) throw Error(path, fmt::format("tensor '{}' has no data", t.name));
  }
}

}  // namespace

void write_gguf(const std::string& path, const Metadata& meta, const std::vector<TensorView>& tensors,
                uint32_t alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    throw Error(path, fmt::format("alignment {} is not a nonzero power of two", alignment));
  check_tensors(path, tensors);
  Metadata m = meta;
  if (alignment != 32 || m.contains("general.alignment")) m.set("general.alignment", GgufValue::u32(alignment));

  const std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  try {
    GgufSink out(path, tmp);
    out.bytes("GGUF", 4);
    out.put<uint32_t>(3);
    out.put<int64_t>(static_cast<int64_t>(tensors.size()));
    out.put<int64_t>(static_cast<int64_t>(m.size()));
    for (const auto& [key, value] : m.entries()) {
      out.str(key);
      put_value(out, value, path, key);
    }
    uint64_t offset = 0;
    for (const auto& t : tensors) {
      out.str(t.name);
      out.put<uint32_t>(static_cast<uint32_t>(t.n_dims));
      for (int d = 0; d < t.n_dims; ++d) out.put<int64_t>(t.ne[d]);
      out.put<int32_t>(static_cast<int32_t>(t.type));
      out.put<uint64_t>(offset);
      offset += (t.nbytes + alignment - 1) / alignment * alignment;
    }
    if (!tensors.empty()) out.pad_to(alignment);
    for (const auto& t : tensors) {
      out.bytes(t.data, t.nbytes);
      out.pad_to(alignment);
    }
    out.close();
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    throw Error(path, fmt::format("cannot rename {} to it: {}", tmp, std::strerror(err)));
  }
}

}  // namespace tenx
