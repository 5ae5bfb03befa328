#pragma once
// SHA-256 (FIPS 180-4), for split hashes in suite.json and model hashes in reports.
// Streaming: update() any number of times, then hex() / digest() once.
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace tenx {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  void update(std::string_view s) { update(s.data(), s.size()); }
  std::array<std::uint8_t, 32> digest();  // finishes the hash
  std::string hex();                      // finishes the hash; lowercase hex

 private:
  void block(const std::uint8_t* p);
  std::array<std::uint32_t, 8> h_;
  std::array<std::uint8_t, 64> buf_{};
  size_t buf_len_ = 0;
  std::uint64_t total_ = 0;
  bool done_ = false;
};

std::string sha256_hex(std::string_view data);
std::string sha256_file(const std::filesystem::path& file);  // throws tenx::Error if unreadable

}  // namespace tenx
