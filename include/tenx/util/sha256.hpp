#pragma once
// SHA-256 (FIPS 180-4), for split hashes in suite.json and model hashes in reports, computed by
// OpenSSL's libcrypto (a library that does it, already linked for HTTPS; its SHA-NI/AVX2 code
// hashes multi-GB model files several times faster than a plain C++ loop).
// Streaming: update() any number of times, then hex() / digest() (the hash is finished once;
// later calls return the same digest).
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX (openssl/types.h)

namespace tenx {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t size);
  void update(std::string_view s) { update(s.data(), s.size()); }
  std::array<std::uint8_t, 32> digest();  // finishes the hash
  std::string hex();                      // finishes the hash; lowercase hex

 private:
  ::evp_md_ctx_st* ctx_;
  std::array<std::uint8_t, 32> digest_{};
  bool done_ = false;
};

std::string sha256_hex(std::string_view data);
std::string sha256_file(const std::filesystem::path& file);  // throws tenx::Error if unreadable

}  // namespace tenx
