#pragma once
// An image as the chat API carries it (docs/remote.md, "The chat API"): a PNG in a data: URI, the
// content part {"type":"image_url","image_url":{"url":"data:image/png;base64,..."}}.
#include <cstdint>
#include <span>
#include <string>

namespace tenx::remote {

// A PNG of w x h pixels, `channels` 1 (grey) or 3 (RGB) interleaved, 8 bits: values scaled from
// 0..max to 0..255 (rounded to nearest, as the vision encoders rescale: the same 8-bit pixels). Deflate's stored blocks (no compression): what matters is that every decoder
// reads it and that the same pixels give the same bytes (the cache keys on the request body).
// Throws tenx::Error for sizes that do not fit.
std::string encode_png(int w, int h, int channels, int max, std::span<const uint8_t> pixels);
std::string base64(std::string_view bytes);
// "data:image/png;base64,..." of encode_png.
std::string png_data_uri(int w, int h, int channels, int max, std::span<const uint8_t> pixels);

}  // namespace tenx::remote
