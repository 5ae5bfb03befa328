// Image files and inline images. PNG is decoded by stb_image (libstb-dev); PGM/PPM are read here
// because stb does not keep a maximum value below 255 (digits use 16).
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_SUPPORT_ZLIB  // raw_data.cpp gunzips the scikit-learn tables with it
#define STBI_NO_STDIO
#include <stb/stb_image.h>

#include "tenx/suites/image.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "tenx/suites/suite_io.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/read_file.hpp"

namespace tenx::suites {
namespace {

// Largest side accepted, as image_problem checks it; tested before any pixel memory is taken, so a
// header claiming 2^20 x 2^20 pixels is refused instead of allocated.
constexpr int kMaxSide = 4096;

// stb_image trusts chunk headers: it grows its IDAT buffer to a chunk's declared length (up to
// 2 GB from a 125-byte file) before checking that the bytes exist, and copies a zero-length first
// IDAT from a null pointer (undefined behaviour); both found by tests/fuzz/image_fuzz.cpp. So the
// chunks up to IEND are walked first: one longer than the rest of the file is refused, and empty
// IDAT chunks (they hold no data) are dropped.
std::string checked_png_chunks(const std::string& png, const std::filesystem::path& file) {
  std::string out = png.substr(0, 8);
  size_t pos = 8;
  while (pos + 8 <= png.size()) {  // length and type; the data and CRC follow
    uint32_t len = 0;
    for (int k = 0; k < 4; ++k) len = (len << 8) | static_cast<unsigned char>(png[pos + k]);
    if (len > png.size() - pos - 8)
      throw Error(file.string(), fmt::format("not a readable PNG: the chunk at byte {} declares {} bytes, {} remain",
                                             pos, len, png.size() - pos - 8));
    const bool end = png.compare(pos + 4, 4, "IEND") == 0;
    const size_t chunk = std::min<size_t>(size_t{12} + len, png.size() - pos);  // a cut CRC is left to stb
    if (len != 0 || png.compare(pos + 4, 4, "IDAT") != 0) out.append(png, pos, chunk);
    pos += chunk;
    if (end) break;
  }
  out.append(png, pos, std::string::npos);
  return out;
}

Image decode_png(const std::string& file_bytes, const std::filesystem::path& file) {
  const std::string bytes = checked_png_chunks(file_bytes, file);
  int w = 0, h = 0, n = 0;
  if (stbi_info_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()), static_cast<int>(bytes.size()), &w, &h,
                            &n) &&
      (w > kMaxSide || h > kMaxSide))
    throw Error(file.string(), fmt::format("PNG is {}x{} pixels, the limit is {}x{}", w, h, kMaxSide, kMaxSide));
  auto* data = stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()),
                                     static_cast<int>(bytes.size()), &w, &h, &n, 0);
  if (!data) throw Error(file.string(), std::string("not a readable PNG: ") + stbi_failure_reason());
  Image im;
  im.h = h;
  im.w = w;
  // Grey+alpha and RGBA lose their alpha channel: tenx images are grey or RGB.
  im.c = (n <= 2) ? 1 : 3;
  im.max = 255;
  im.pixels.resize(static_cast<size_t>(h) * w * im.c);
  for (size_t p = 0; p < static_cast<size_t>(h) * w; ++p)
    for (int ch = 0; ch < im.c; ++ch) im.pixels[p * im.c + ch] = data[p * n + ch];
  stbi_image_free(data);
  return im;
}

// PNM: P2/P3 (plain text) and P5/P6 (binary), maxval <= 255.
Image decode_pnm(const std::string& bytes, const std::filesystem::path& file) {
  size_t pos = 0;
  auto fail = [&](const std::string& what) -> Error { return Error(file.string(), "bad PNM: " + what); };
  auto skip_space = [&] {
    while (pos < bytes.size()) {
      if (bytes[pos] == '#') {
        while (pos < bytes.size() && bytes[pos] != '\n') ++pos;
      } else if (std::isspace(static_cast<unsigned char>(bytes[pos]))) {
        ++pos;
      } else {
        break;
      }
    }
  };
  auto number = [&](const char* what) {
    skip_space();
    if (pos >= bytes.size() || !std::isdigit(static_cast<unsigned char>(bytes[pos])))
      throw fail(std::string("expected ") + what);
    long v = 0;
    while (pos < bytes.size() && std::isdigit(static_cast<unsigned char>(bytes[pos]))) {
      v = v * 10 + (bytes[pos++] - '0');
      if (v > 1 << 20) throw fail(std::string(what) + " too large");
    }
    return static_cast<int>(v);
  };
  if (bytes.size() < 2 || bytes[0] != 'P') throw fail("no P2/P3/P5/P6 magic");
  char kind = bytes[1];
  if (kind != '2' && kind != '3' && kind != '5' && kind != '6') throw fail(std::string("unsupported kind P") + kind);
  pos = 2;
  Image im;
  im.c = (kind == '3' || kind == '6') ? 3 : 1;
  im.w = number("width");
  im.h = number("height");
  im.max = number("maxval");
  if (im.w < 1 || im.h < 1) throw fail("empty image");
  if (im.max < 1 || im.max > 255) throw fail("maxval must be 1..255");
  if (im.w > kMaxSide || im.h > kMaxSide)
    throw fail(fmt::format("{}x{} pixels, the limit is {}x{}", im.w, im.h, kMaxSide, kMaxSide));
  size_t count = static_cast<size_t>(im.w) * im.h * im.c;
  im.pixels.resize(count);
  if (kind == '5' || kind == '6') {
    ++pos;  // exactly one whitespace byte after maxval
    if (bytes.size() < pos + count) throw fail(fmt::format("truncated: {} pixel bytes expected", count));
    for (size_t i = 0; i < count; ++i) im.pixels[i] = static_cast<std::uint8_t>(bytes[pos + i]);
  } else {
    for (size_t i = 0; i < count; ++i) im.pixels[i] = static_cast<std::uint8_t>(std::min(number("pixel"), 255));
  }
  for (auto v : im.pixels)
    if (v > im.max) throw fail("pixel above maxval");
  return im;
}

}  // namespace

Image decode_image_file(const std::filesystem::path& file) {
  std::string bytes = read_file(file, "the image file");
  if (bytes.size() >= 8 && bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0) return decode_png(bytes, file);
  if (bytes.size() >= 2 && bytes[0] == 'P') return decode_pnm(bytes, file);
  throw Error(file.string(), "unknown image format (PNG, PGM or PPM expected)");
}

Image decode_png_bytes(const std::string& bytes, const std::string& subject) {
  if (bytes.size() < 8 || bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0)
    throw Error(subject, "not a PNG (its bytes do not begin with the PNG signature)");
  return decode_png(bytes, subject);
}

std::string encode_pnm(const Image& image) {
  std::string out = fmt::format("P{}\n{} {}\n{}\n", image.c == 3 ? 6 : 5, image.w, image.h, image.max);
  out.append(image.pixels.begin(), image.pixels.end());
  return out;
}

std::string image_problem(const Image& im) {
  if (im.h < 1 || im.h > 4096) return fmt::format("h must be 1..4096, got {}", im.h);
  if (im.w < 1 || im.w > 4096) return fmt::format("w must be 1..4096, got {}", im.w);
  if (im.c != 1 && im.c != 3) return fmt::format("c must be 1 or 3, got {}", im.c);
  if (im.max < 1 || im.max > 255) return fmt::format("max must be 1..255, got {}", im.max);
  size_t want = static_cast<size_t>(im.h) * im.w * im.c;
  if (im.pixels.size() != want)
    return fmt::format("size mismatch: {} pixels for h*w*c = {}*{}*{} = {}", im.pixels.size(), im.h, im.w, im.c, want);
  for (size_t i = 0; i < im.pixels.size(); ++i)
    if (im.pixels[i] > im.max) return fmt::format("pixel {} is {}, above max {}", i, im.pixels[i], im.max);
  return "";
}

Image image_from_json(const Json& j, const std::filesystem::path& suite_dir) {
  std::string rel;
  if (j.is_string()) rel = j.get<std::string>();
  else if (j.is_object() && j.contains("path")) {
    if (!j["path"].is_string()) throw Error("path", "expected a string");
    rel = j["path"].get<std::string>();
  }
  if (!rel.empty() || j.is_string()) {
    std::filesystem::path p(rel);
    if (rel.empty() || p.is_absolute()) throw Error("path", "must be a relative path inside the suite");
    for (const auto& part : p)
      if (part == "..") throw Error("path", "must stay inside the suite folder (no \"..\")");
    if (suite_dir.empty()) throw Error("path", "an image file needs the suite folder to resolve it");
    Image im;
    try {
      im = decode_image_file(suite_dir / p);
    } catch (const Error& e) {
      throw Error("path", e.what());
    }
    im.path = rel;
    return im;
  }
  if (!j.is_object()) throw Error("", "expected an object {h, w, c, pixels} or a file path");
  Image im;
  auto get_int = [&](const char* key, bool required, int fallback) {
    if (!j.contains(key)) {
      if (required) throw Error(key, "missing");
      return fallback;
    }
    if (!j[key].is_number_integer()) throw Error(key, "expected an integer");
    auto v = j[key].get<std::int64_t>();
    if (v < 0 || v > 1 << 20) throw Error(key, fmt::format("out of range: {}", v));
    return static_cast<int>(v);
  };
  im.h = get_int("h", true, 0);
  im.w = get_int("w", true, 0);
  im.c = get_int("c", false, 1);
  im.max = get_int("max", false, 255);
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "h" && it.key() != "w" && it.key() != "c" && it.key() != "max" && it.key() != "pixels")
      throw Error(it.key(), "unknown field");
  if (!j.contains("pixels")) throw Error("pixels", "missing");
  const Json& px = j["pixels"];
  if (!px.is_array()) throw Error("pixels", "expected a flat list of integers");
  im.pixels.reserve(px.size());
  for (size_t i = 0; i < px.size(); ++i) {
    if (!px[i].is_number_integer()) throw Error(fmt::format("pixels/{}", i), "expected an integer");
    auto v = px[i].get<std::int64_t>();
    if (v < 0 || v > 255) throw Error(fmt::format("pixels/{}", i), fmt::format("out of range: {}", v));
    im.pixels.push_back(static_cast<std::uint8_t>(v));
  }
  if (auto problem = image_problem(im); !problem.empty())
    throw Error(problem.rfind("size", 0) == 0 || problem.rfind("pixel", 0) == 0 ? "pixels" : "", problem);
  return im;
}

Json image_to_json(const Image& image) {
  if (!image.path.empty()) return Json{{"path", image.path}};
  Json j;
  j["h"] = image.h;
  j["w"] = image.w;
  j["c"] = image.c;
  j["max"] = image.max;
  Json px = Json::array();
  for (auto v : image.pixels) px.push_back(static_cast<int>(v));
  j["pixels"] = std::move(px);
  return j;
}

std::string image_to_text(const Image& im) {
  static const char* kShades = " .:-=+*#%@";
  std::string out;
  for (int y = 0; y < im.h; ++y) {
    for (int x = 0; x < im.w; ++x) {
      if (im.c == 1) {
        int v = im.at(y, x) * 9 / std::max(im.max, 1);
        out += kShades[v];
        out += kShades[v];
      } else {
        int r = im.at(y, x, 0), g = im.at(y, x, 1), b = im.at(y, x, 2);
        char ch = '.';
        if (r + g + b > 0) {
          // the dominant primary mix, as one letter: Red Green Blue Yellow Magenta Cyan White
          bool R = r * 2 > im.max, G = g * 2 > im.max, B = b * 2 > im.max;
          ch = R && G && B ? 'W' : R && G ? 'Y' : R && B ? 'M' : G && B ? 'C' : R ? 'R' : G ? 'G' : B ? 'B' : 'k';
        }
        out += ch;
        out += ' ';
      }
    }
    out += '\n';
  }
  return out;
}

}  // namespace tenx::suites
