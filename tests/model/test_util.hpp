#pragma once
// Helpers shared by the model-file tests: a scratch directory, raw byte
// builders for hand-crafted (often hostile) GGUF and safetensors files, and an
// assertion that a call throws tenx::Error with a given message.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "tenx/util/error.hpp"

namespace tenx::test {

// A fresh directory under the test temp dir, removed at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    static int counter = 0;
    path_ = std::filesystem::path(::testing::TempDir()) /
            ("tenx_model_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Removes the old file first: on ext4, truncating and rewriting a file forces a
// synchronous flush on close (auto_da_alloc), which made the sweeps 20x slower.
inline void write_file(const std::string& path, std::string_view bytes) {
  std::error_code ec;
  std::filesystem::remove(path, ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Little-endian GGUF bytes, field by field (docs/gguf-format.md §1), with no validation: the
// point is to build files a writer would never produce.
struct GgufBytes {
  std::string b;
  template <class T>
  GgufBytes& put(T v) {
    b.append(reinterpret_cast<const char*>(&v), sizeof(T));
    return *this;
  }
  GgufBytes& str(std::string_view s) {
    put<uint64_t>(s.size());
    b.append(s);
    return *this;
  }
  GgufBytes& header(int64_t n_tensors, int64_t n_kv, uint32_t version = 3) {
    b.append("GGUF");
    put<uint32_t>(version);
    put<int64_t>(n_tensors);
    return put<int64_t>(n_kv);
  }
  GgufBytes& kv_u32(std::string_view key, uint32_t v) { str(key); put<int32_t>(4); return put<uint32_t>(v); }
  GgufBytes& kv_u64(std::string_view key, uint64_t v) { str(key); put<int32_t>(10); return put<uint64_t>(v); }
  GgufBytes& kv_str(std::string_view key, std::string_view v) { str(key); put<int32_t>(8); return str(v); }
  GgufBytes& kv_str_array(std::string_view key, const std::vector<std::string>& v) {
    str(key);
    put<int32_t>(9);
    put<int32_t>(8);
    put<uint64_t>(v.size());
    for (const auto& s : v) str(s);
    return *this;
  }
  GgufBytes& tensor(std::string_view name, const std::vector<int64_t>& ne, int32_t type, uint64_t offset) {
    str(name);
    put<uint32_t>(static_cast<uint32_t>(ne.size()));
    for (int64_t n : ne) put<int64_t>(n);
    put<int32_t>(type);
    return put<uint64_t>(offset);
  }
  GgufBytes& align(size_t a) {
    while (b.size() % a != 0) b.push_back('\0');
    return *this;
  }
  GgufBytes& fill(size_t n, char c = '\x11') {
    b.append(n, c);
    return *this;
  }
};

// Safetensors bytes: u64 header length, JSON header, data.
inline std::string safetensors_bytes(const std::string& header_json, std::string_view data) {
  std::string out;
  const uint64_t n = header_json.size();
  out.append(reinterpret_cast<const char*>(&n), 8);
  out += header_json;
  out += data;
  return out;
}

// EXPECT that fn throws tenx::Error whose message contains every piece.
inline void expect_error(const std::function<void()>& fn, const std::vector<std::string>& pieces,
                         const std::string& context = {}) {
  try {
    fn();
    ADD_FAILURE() << context << ": expected tenx::Error, nothing was thrown";
  } catch (const tenx::Error& e) {
    for (const auto& p : pieces)
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos)
          << context << ": message '" << e.what() << "' lacks '" << p << "'";
  } catch (const std::exception& e) {
    ADD_FAILURE() << context << ": expected tenx::Error, got another exception: " << e.what();
  }
}

inline bool shared_dir_available() { return std::filesystem::exists(TENX_SHARED_DIR "/reference"); }

}  // namespace tenx::test
