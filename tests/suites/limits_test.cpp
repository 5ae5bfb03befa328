// Suite items, images and tool calls that ask for absurd resources are refused with a clear
// error before anything is allocated or run (issue 8, docs/reliability.md): a million-step agent
// loop, a 1e9-token generation, an image header claiming 2^40 pixels, a 100 MB tool argument.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "suite_files.hpp"
#include "tenx/agent/tool_call.hpp"
#include "tenx/suites/image.hpp"
#include "tenx/suites/suite_io.hpp"
#include "tenx/util/error.hpp"

namespace {

using namespace tenx::suites;
using tenx::suites::testing::TempSuite;

// The problems parse_item reports for one JSON line.
std::vector<FieldError> item_errors(const std::string& line) {
  std::vector<FieldError> errors;
  EXPECT_FALSE(parse_item(Json::parse(line), {}, {"x", "t"}, errors).has_value());
  return errors;
}

bool has_error(const std::vector<FieldError>& errors, const std::string& field, const std::string& text) {
  return std::any_of(errors.begin(), errors.end(), [&](const FieldError& e) {
    return e.field == field && e.message.find(text) != std::string::npos;
  });
}

TEST(Limits, AgentItemWithAMillionStepsIsRefused) {
  const auto errors = item_errors(
      R"({"type":"agent","instruction":"go","tools":[],"env":{"name":"patients"},"gold":{"answer":"1"},"max_steps":1000000})");
  EXPECT_TRUE(has_error(errors, "max_steps", "out of range: 1000000 not in [1, 1000]"));
}

TEST(Limits, GenerateItemWithABillionTokensIsRefused) {
  auto errors = item_errors(R"({"type":"generate","prompt":"p","target":"t","max_tokens":1000000000})");
  EXPECT_TRUE(has_error(errors, "max_tokens", "out of range: 1000000000 not in [1, 1048576]"));
  errors = item_errors(R"({"type":"generate","prompt":"p","target":"t","max_tokens":1e9})");
  EXPECT_TRUE(has_error(errors, "max_tokens", "expected an integer"));
}

TEST(Limits, PnmHeaderOf2To40PixelsIsRefusedBeforeAllocating) {
  // Found by tests/fuzz/image_fuzz.cpp's review: the header's 2^20 x 2^20 was allocated
  // (std::vector::resize of 1 TiB) before the pixel bytes were counted.
  TempSuite s;
  s.write("big.pgm", "P5\n1048576 1048576\n255\n\x01\x02");
  try {
    decode_image_file(s.dir() / "big.pgm");
    FAIL() << "no error";
  } catch (const tenx::Error& e) {
    EXPECT_NE(std::string(e.what()).find("1048576x1048576 pixels, the limit is 4096x4096"), std::string::npos)
        << e.what();
  }
}

// PNG bytes: signature, then chunks (stb_image does not check CRCs, so they are left zero).
std::string be32(uint32_t v) {
  std::string s;
  for (int shift = 24; shift >= 0; shift -= 8) s += static_cast<char>((v >> shift) & 0xFF);
  return s;
}
std::string png_chunk(const std::string& type, const std::string& data) {
  return be32(static_cast<uint32_t>(data.size())) + type + data + be32(0);
}
const std::string kPngSignature = "\x89PNG\r\n\x1a\n";
std::string png_ihdr(uint32_t w, uint32_t h, char color_type) {
  return png_chunk("IHDR", be32(w) + be32(h) + std::string{'\x08', color_type, '\0', '\0', '\0'});
}

TEST(Limits, PngHeaderBeyond4096IsRefusedBeforeDecoding) {
  TempSuite s;
  s.write("wide.png", kPngSignature + png_ihdr(5000, 10, '\x02') + png_chunk("IEND", ""));
  try {
    decode_image_file(s.dir() / "wide.png");
    FAIL() << "no error";
  } catch (const tenx::Error& e) {
    EXPECT_NE(std::string(e.what()).find("PNG is 5000x10 pixels, the limit is 4096x4096"), std::string::npos)
        << e.what();
  }
}

TEST(Limits, PngChunkLongerThanTheFileIsRefusedBeforeAllocating) {
  // tests/fuzz/corpus/image/regress_idat_length_2gb.png: stb_image grew its buffer to an IDAT's
  // declared 2 GB before reading it.
  TempSuite s;
  s.write("lying.png", kPngSignature + png_ihdr(2, 2, '\0') + be32(0x7FFFFFFF) + "IDAT" + "\x78\x9c" +
                           png_chunk("IEND", ""));
  try {
    decode_image_file(s.dir() / "lying.png");
    FAIL() << "no error";
  } catch (const tenx::Error& e) {
    EXPECT_NE(std::string(e.what()).find("the chunk at byte 33 declares 2147483647 bytes"), std::string::npos)
        << e.what();
  }
}

TEST(FuzzRegressions, PngWithAnEmptyFirstIdatChunkDecodes) {
  // tests/fuzz/corpus/image/regress_empty_idat.png: stb_image memcpy'd from NULL for a zero-length
  // first IDAT (UBSan: null pointer passed as argument 1). A 2x2 grey image, stored (uncompressed)
  // deflate block, after an empty IDAT, must decode to its pixels.
  const std::string raw = std::string{'\0', 10, 20, '\0', 30, 40};  // filter byte 0 per row
  uint32_t a = 1, b = 0;
  for (unsigned char c : raw) a = (a + c) % 65521, b = (b + a) % 65521;
  const std::string zlib = std::string{'\x78', '\x01', '\x01', 6, 0, static_cast<char>(~6), static_cast<char>(~0)} + raw +
                           be32((b << 16) | a);
  TempSuite s;
  s.write("empty_idat.png", kPngSignature + png_ihdr(2, 2, '\0') + png_chunk("IDAT", "") + png_chunk("IDAT", zlib) +
                                png_chunk("IEND", ""));
  const Image im = decode_image_file(s.dir() / "empty_idat.png");
  EXPECT_EQ(im.h, 2);
  EXPECT_EQ(im.w, 2);
  EXPECT_EQ(im.c, 1);
  EXPECT_EQ(im.pixels, (std::vector<std::uint8_t>{10, 20, 30, 40}));
  // regress_empty_idat_no_crc.png: the same with the file cut after the empty IDAT's type.
  s.write("cut.png", kPngSignature + png_ihdr(4, 3, '\0') + be32(0) + "IDAT");
  EXPECT_THROW(decode_image_file(s.dir() / "cut.png"), tenx::Error);
}

TEST(Limits, ToolCallWithA100MegabyteArgumentIsRefused) {
  const std::string line = "<call>note(text=\"" + std::string(100u << 20, 'a') + "\")</call>";
  const auto parsed = tenx::agent::parse_call_line(line);
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error->message.find("the limit is 65536"), std::string::npos) << parsed.error->message;
  const auto turn = tenx::agent::parse_turn(line + "\n");
  ASSERT_FALSE(turn.ok());
  EXPECT_NE(turn.error->message.find("the limit is 65536"), std::string::npos);
  // The longest accepted line still parses.
  const std::string fits = "<call>note(text=\"" +
                           std::string(tenx::agent::kMaxCallLineBytes - std::strlen("<call>note(text=\"\")</call>"), 'a') +
                           "\")</call>";
  ASSERT_EQ(fits.size(), tenx::agent::kMaxCallLineBytes);
  EXPECT_TRUE(tenx::agent::parse_call_line(fits).ok());
}

}  // namespace
