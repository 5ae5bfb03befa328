// SHA-256 against the FIPS 180-2 example vectors (appendix B) and the NIST "million a" message.
#include <gtest/gtest.h>

#include <string>

#include "tenx/util/sha256.hpp"

namespace {

TEST(Sha256, Fips180Abc) {
  EXPECT_EQ(tenx::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, Empty) {
  EXPECT_EQ(tenx::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256, Fips180TwoBlocks) {
  EXPECT_EQ(tenx::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, MillionAInUnevenChunks) {
  tenx::Sha256 h;
  std::string chunk(997, 'a');  // chunks that straddle the 64-byte blocks
  size_t left = 1000000;
  while (left > 0) {
    size_t n = std::min(left, chunk.size());
    h.update(chunk.data(), n);
    left -= n;
  }
  EXPECT_EQ(h.hex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, PaddingBoundaries) {
  // 55, 56 and 64 bytes: the padding spills into a second block at 56
  tenx::Sha256 a;
  std::string s55(55, 'x'), s56(56, 'x');
  EXPECT_NE(tenx::sha256_hex(s55), tenx::sha256_hex(s56));
  // streaming one byte at a time equals one call
  for (char ch : s56) a.update(&ch, 1);
  EXPECT_EQ(a.hex(), tenx::sha256_hex(s56));
}

}  // namespace
