// An image_url content part of a chat request (request.hpp): the data: URI's bytes and the PNG they
// hold. A pure function of the part, fuzzed with the chat request parser
// (tests/fuzz/chat_request_fuzz.cpp). tenx serve never fetches a URL: an image travels in the body.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "request_fields.hpp"
#include "tenx/serve/request.hpp"
#include "tenx/suites/image.hpp"
#include "tenx/util/error.hpp"

namespace tenx::serve {

using OJson = nlohmann::ordered_json;
using namespace fields;

namespace {

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), s.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
         });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// RFC 4648 base64 (the standard alphabet); the padding may be left out, as some clients do.
std::string base64_decode(std::string_view in, const std::string& param) {
  static const std::array<int8_t, 256> value = [] {
    std::array<int8_t, 256> v{};
    v.fill(-1);
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) v[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
    return v;
  }();
  size_t n = in.size();
  size_t pad = 0;
  while (n > 0 && in[n - 1] == '=' && pad < 2) --n, ++pad;
  if (pad > 0 && (n + pad) % 4 != 0)
    bad(param, fmt::format("the base64 data is {} characters with its padding, not a multiple of 4", n + pad));
  if (n % 4 == 1) bad(param, "the base64 data ends with a lone character (its length is 1 more than a multiple of 4)");
  std::string out;
  out.reserve(n / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; ++i) {
    const int8_t v = value[static_cast<unsigned char>(in[i])];
    if (v < 0)
      bad(param, fmt::format("the base64 data has a character outside its alphabet at offset {} (byte 0x{:02x})", i,
                             static_cast<unsigned char>(in[i])));
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

}  // namespace

std::string image_part_bytes(const OJson& part, const std::string& param) {
  for (const auto& [key, v] : part.items())
    if (key != "type" && key != "image_url") bad(param + "." + key, "unknown field of an image_url part");
  const auto image = part.find("image_url");
  if (image == part.end() || !image->is_object()) bad(param + ".image_url", "is required (an object with \"url\")");
  std::string url;
  bool has_url = false;
  for (const auto& [key, v] : image->items()) {
    const std::string at = param + ".image_url." + key;
    if (key == "url") {
      if (!v.is_string()) bad(at, fmt::format("must be a string, not {}", kind(v)));
      url = v.get<std::string>();
      has_url = true;
    } else if (key == "detail") {
      if (!v.is_null() && !(v.is_string() && v == "auto"))
        bad(at, "only \"auto\" is supported (tenx serve encodes an image as its projector does)");
    } else {
      bad(at, "unknown field");
    }
  }
  const std::string at = param + ".image_url.url";
  if (!has_url) bad(at, "is required (a data:image/png;base64,... URI)");
  if (starts_with_nocase(url, "http://") || starts_with_nocase(url, "https://"))
    bad(at, "an http(s) URL is not fetched (tenx serve makes no network requests): send the image in the body as "
            "a data:image/png;base64,... URI");
  if (!starts_with_nocase(url, "data:"))
    bad(at, "must be a data: URI (data:image/png;base64,...): tenx serve fetches nothing");
  const size_t comma = url.find(',');
  if (comma == std::string::npos) bad(at, "the data: URI has no ',' before its data");
  const std::string_view header = std::string_view(url).substr(5, comma - 5);
  const size_t semi = header.find(';');
  const std::string media = lower(header.substr(0, semi));
  bool is_base64 = false;
  for (size_t at_param = semi; at_param != std::string_view::npos;) {
    const size_t next = header.find(';', at_param + 1);
    const std::string_view p = header.substr(at_param + 1, next == std::string_view::npos ? std::string_view::npos : next - at_param - 1);
    if (lower(p) == "base64") is_base64 = true;
    at_param = next;
  }
  if (media != "image/png")
    bad(at, fmt::format("the media type is '{}': tenx serve reads PNG images only (data:image/png;base64,...)",
                        media.empty() ? std::string("(none)") : media));
  if (!is_base64) bad(at, "the data: URI is not base64 (data:image/png;base64,...)");
  std::string bytes = base64_decode(std::string_view(url).substr(comma + 1), at);
  if (bytes.empty()) bad(at, "the data: URI holds no bytes");
  return bytes;
}

suites::Image decode_chat_image(const ChatImage& image) {
  suites::Image im;
  try {
    im = suites::decode_png_bytes(image.bytes, image.param);
  } catch (const Error& e) {
    throw ApiError(400, "invalid_image", fmt::format("{}: the image cannot be decoded: {}", image.param, e.detail()),
                   image.param);
  }
  if (const std::string problem = suites::image_problem(im); !problem.empty())
    throw ApiError(400, "invalid_image", fmt::format("{}: the image cannot be used: {}", image.param, problem),
                   image.param);
  return im;
}

}  // namespace tenx::serve
