// PNG (stored deflate) and base64 for the chat API's image parts (image_uri.hpp).
#include "tenx/remote/image_uri.hpp"

#include <array>

#include "tenx/util/error.hpp"

namespace tenx::remote {
namespace {

uint32_t crc32_of(std::string_view bytes, uint32_t crc = 0) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (unsigned char b : bytes) crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

void put32(std::string& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<char>((v >> s) & 0xFF));
}

void chunk(std::string& png, const char* type, const std::string& data) {
  put32(png, static_cast<uint32_t>(data.size()));
  const std::string body = std::string(type, 4) + data;
  png += body;
  put32(png, crc32_of(body));
}

}  // namespace

std::string encode_png(int w, int h, int channels, int max, std::span<const uint8_t> pixels) {
  if (w <= 0 || h <= 0 || (channels != 1 && channels != 3) || max <= 0 || w > (1 << 14) || h > (1 << 14) ||
      pixels.size() != static_cast<size_t>(w) * static_cast<size_t>(h) * static_cast<size_t>(channels))
    throw Error("image", "cannot encode a " + std::to_string(w) + "x" + std::to_string(h) + "x" +
                             std::to_string(channels) + " image of " + std::to_string(pixels.size()) + " values as PNG");
  std::string raw;  // filter byte 0, then the row
  const size_t row = static_cast<size_t>(w) * static_cast<size_t>(channels);
  for (int y = 0; y < h; ++y) {
    raw.push_back(0);
    for (size_t x = 0; x < row; ++x)
      // Rounded as the vision encoders bring an image of another max to 8 bits (clip_image.cpp), so a
      // served model sees the pixels a local one does.
      raw.push_back(static_cast<char>(std::min(255, (pixels[static_cast<size_t>(y) * row + x] * 255 + max / 2) / max)));
  }
  std::string z = "\x78\x01";  // zlib header: deflate, no preset dictionary
  for (size_t at = 0; at < raw.size() || at == 0;) {
    const size_t n = std::min<size_t>(65535, raw.size() - at);
    const bool last = at + n == raw.size();
    z.push_back(last ? 1 : 0);
    z.push_back(static_cast<char>(n & 0xFF));
    z.push_back(static_cast<char>(n >> 8));
    z.push_back(static_cast<char>(~n & 0xFF));
    z.push_back(static_cast<char>((~n >> 8) & 0xFF));
    z.append(raw, at, n);
    at += n;
    if (last) break;
  }
  uint32_t a = 1, b = 0;  // Adler-32
  for (unsigned char c : raw) a = (a + c) % 65521, b = (b + a) % 65521;
  put32(z, (b << 16) | a);
  std::string png = "\x89PNG\r\n\x1a\n";
  std::string ihdr;
  put32(ihdr, static_cast<uint32_t>(w));
  put32(ihdr, static_cast<uint32_t>(h));
  ihdr += std::string{8, static_cast<char>(channels == 3 ? 2 : 0), 0, 0, 0};
  chunk(png, "IHDR", ihdr);
  chunk(png, "IDAT", z);
  chunk(png, "IEND", "");
  return png;
}

std::string base64(std::string_view bytes) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8) | uint8_t(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(k[(v >> s) & 63]);
  }
  if (i < bytes.size()) {
    uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
    if (i + 1 < bytes.size()) v |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    out.push_back(k[(v >> 18) & 63]);
    out.push_back(k[(v >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? k[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::string png_data_uri(int w, int h, int channels, int max, std::span<const uint8_t> pixels) {
  return "data:image/png;base64," + base64(encode_png(w, h, channels, max, pixels));
}

}  // namespace tenx::remote
