#pragma once
// Image files inside a suite (PNG through stb_image; PGM/PPM, plain or binary, read here so the
// maximum value is kept, e.g. 16 for digits) and small helpers for showing images in a terminal.
#include <filesystem>
#include <string>

#include "tenx/suites/suite.hpp"

namespace tenx::suites {

// Decodes a .png, .pgm or .ppm file. Throws tenx::Error(file, problem).
Image decode_image_file(const std::filesystem::path& file);
// PNG bytes held in memory (e.g. a chat request's data: URI); errors name `subject`. Grey+alpha
// and RGBA lose their alpha channel; 16-bit samples become 8-bit.
Image decode_png_bytes(const std::string& bytes, const std::string& subject);
// Binary PGM (c = 1) or PPM (c = 3) bytes with the image's own max value.
std::string encode_pnm(const Image& image);
// A text rendering for `tenx suites show`: grey images as shades, RGB as colour initials.
std::string image_to_text(const Image& image);
// Checks h, w, c, max and pixel count/range; returns "" when consistent, else the problem.
std::string image_problem(const Image& image);

}  // namespace tenx::suites
