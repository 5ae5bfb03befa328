// SHA-256 through OpenSSL's EVP interface (libcrypto); tests/suites/sha256_test.cpp checks it
// against the FIPS 180-2 example vectors.
#include "tenx/util/sha256.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <fstream>

#include "tenx/util/error.hpp"

namespace tenx {

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) throw Error("sha256", "libcrypto could not start a hash");
}

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }

void Sha256::update(const void* data, size_t size) {
  if (done_) throw Error("sha256", "update() after the hash was finished");
  if (size > 0 && EVP_DigestUpdate(ctx_, data, size) != 1) throw Error("sha256", "libcrypto could not hash the data");
}

std::array<std::uint8_t, 32> Sha256::digest() {
  if (!done_) {
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(ctx_, digest_.data(), &n) != 1 || n != digest_.size())
      throw Error("sha256", "libcrypto could not finish the hash");
    done_ = true;
  }
  return digest_;
}

std::string Sha256::hex() {
  std::string s;
  for (auto b : digest()) s += fmt::format("{:02x}", b);
  return s;
}

std::string sha256_hex(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.hex();
}

std::string sha256_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(file.string(), "cannot open for hashing");
  Sha256 h;
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof buf);
    h.update(buf, static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) throw Error(file.string(), "read error while hashing");
  return h.hex();
}

}  // namespace tenx
