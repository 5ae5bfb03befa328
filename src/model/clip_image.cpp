// Preprocessing of images for the vision encoders: Pillow's resize (a separable filter, widened
// when shrinking so it antialiases, 8-bit with 22-bit fixed-point weights, horizontal pass first),
// as llama.cpp's mtmd-image.cpp resize_pillow computes it for RESIZE_ALGO_BILINEAR (triangle),
// RESIZE_ALGO_BICUBIC (Pillow's a = -0.5) and RESIZE_ALGO_LANCZOS (a = 3), its aspect-preserving
// padded resize (PAD_CEIL), then normalisation per channel. Formulas: docs/vision.md.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "tenx/model/clip.hpp"
#include "tenx/util/error.hpp"

namespace tenx {

namespace {

constexpr int kPrecisionBits = 22;  // 32 - 8 (pixel) - 2 (headroom), as Pillow

struct ResizeKernel {
  int ksize = 0;
  std::vector<int> first, count;  // per output pixel: first input pixel and how many contribute
  std::vector<int32_t> weights;   // per output pixel: ksize fixed-point weights
};

double resize_weight(ResizeFilter f, double x) {
  if (f == ResizeFilter::Lanczos) {
    if (x < -3.0 || x >= 3.0) return 0.0;
    auto sinc = [](double v) {
      if (v == 0.0) return 1.0;
      const double pv = v * 3.141592653589793238462643383279502884;
      return std::sin(pv) / pv;
    };
    return sinc(x) * sinc(x / 3.0);
  }
  x = std::abs(x);
  if (f == ResizeFilter::Bilinear) return x < 1.0 ? 1.0 - x : 0.0;
  constexpr double a = -0.5;  // Pillow's (PyTorch and ggml use -0.75)
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

ResizeKernel resize_kernel(int in, int out, ResizeFilter f) {
  const double scale = static_cast<double>(in) / out;
  const double filterscale = std::max(scale, 1.0);
  // The filter's radius (triangle 1, bicubic 2, Lanczos 3), widened when shrinking.
  const double support = (f == ResizeFilter::Lanczos ? 3.0 : f == ResizeFilter::Bicubic ? 2.0 : 1.0) * filterscale;
  ResizeKernel k;
  k.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  k.first.resize(static_cast<size_t>(out));
  k.count.resize(static_cast<size_t>(out));
  k.weights.assign(static_cast<size_t>(out) * k.ksize, 0);
  std::vector<double> w(static_cast<size_t>(k.ksize));
  for (int o = 0; o < out; ++o) {
    const double center = (o + 0.5) * scale;
    const int lo = std::max(0, static_cast<int>(center - support + 0.5));
    const int hi = std::min(in, static_cast<int>(center + support + 0.5));
    double sum = 0;
    for (int x = 0; x < hi - lo; ++x) {
      w[static_cast<size_t>(x)] = resize_weight(f, (x + lo - center + 0.5) / filterscale);
      sum += w[static_cast<size_t>(x)];
    }
    for (int x = 0; x < hi - lo; ++x) {
      const double v = sum != 0.0 ? w[static_cast<size_t>(x)] / sum : w[static_cast<size_t>(x)];
      // Pillow adds ±0.5 and truncates toward zero.
      k.weights[static_cast<size_t>(o) * k.ksize + x] =
          static_cast<int32_t>(v * std::ldexp(1.0, kPrecisionBits) + (v < 0 ? -0.5 : 0.5));
    }
    k.first[static_cast<size_t>(o)] = lo;
    k.count[static_cast<size_t>(o)] = hi - lo;
  }
  return k;
}

uint8_t clip8(int32_t v) { return static_cast<uint8_t>(std::clamp(v >> kPrecisionBits, 0, 255)); }

}  // namespace

std::vector<uint8_t> resize_pillow(std::span<const uint8_t> rgb, int w, int h, int out_w, int out_h, ResizeFilter filter) {
  if (w <= 0 || h <= 0 || out_w <= 0 || out_h <= 0 || rgb.size() != static_cast<size_t>(w) * h * 3)
    throw Error("image", fmt::format("cannot resize {}x{} ({} values) to {}x{}", w, h, rgb.size(), out_w, out_h));
  std::vector<uint8_t> cur(rgb.begin(), rgb.end());
  if (out_w != w) {  // horizontal pass
    const ResizeKernel k = resize_kernel(w, out_w, filter);
    std::vector<uint8_t> next(static_cast<size_t>(out_w) * h * 3);
    for (int y = 0; y < h; ++y)
      for (int o = 0; o < out_w; ++o)
        for (int c = 0; c < 3; ++c) {
          int32_t acc = 1 << (kPrecisionBits - 1);
          for (int x = 0; x < k.count[static_cast<size_t>(o)]; ++x)
            acc += cur[(static_cast<size_t>(y) * w + k.first[static_cast<size_t>(o)] + x) * 3 + c] *
                   k.weights[static_cast<size_t>(o) * k.ksize + x];
          next[(static_cast<size_t>(y) * out_w + o) * 3 + c] = clip8(acc);
        }
    cur = std::move(next);
  }
  if (out_h != h) {  // vertical pass
    const ResizeKernel k = resize_kernel(h, out_h, filter);
    std::vector<uint8_t> next(static_cast<size_t>(out_w) * out_h * 3);
    for (int o = 0; o < out_h; ++o)
      for (int x = 0; x < out_w * 3; ++x) {
        int32_t acc = 1 << (kPrecisionBits - 1);
        for (int y = 0; y < k.count[static_cast<size_t>(o)]; ++y)
          acc += cur[static_cast<size_t>(k.first[static_cast<size_t>(o)] + y) * out_w * 3 + x] *
                 k.weights[static_cast<size_t>(o) * k.ksize + y];
        next[static_cast<size_t>(o) * out_w * 3 + x] = clip8(acc);
      }
    cur = std::move(next);
  }
  return cur;
}

ClipGrid muse_glimmer_token_grid(int width, int height, int cell, int64_t max_tokens) {
  if (width <= 0 || height <= 0 || cell <= 0 || max_tokens <= 0)
    throw Error("image", fmt::format("no token grid for {}x{} pixels in cells of {}", width, height, cell));
  double nph = static_cast<double>(height) / cell, npw = static_cast<double>(width) / cell;
  const double ratio = nph > 0.0 ? npw / nph : 1.0;
  const auto cap = static_cast<double>(max_tokens);
  if (nph * npw > cap) {  // shrink to the cap, keeping the aspect ratio
    nph = std::sqrt(cap / ratio);
    npw = nph * ratio;
  }
  // Of the floor/ceil candidates under the cap, the closest aspect ratio; ties: more tokens.
  const int hs[2] = {static_cast<int>(std::floor(nph)), static_cast<int>(std::ceil(nph))};
  const int ws[2] = {static_cast<int>(std::floor(npw)), static_cast<int>(std::ceil(npw))};
  const double target = static_cast<double>(height) / width;
  int best_h = -1, best_w = -1;
  double best_d = 0.0;
  for (int a : hs)
    for (int b : ws) {
      if (a < 1 || b < 1 || static_cast<int64_t>(a) * b > max_tokens) continue;
      const double d = std::fabs(static_cast<double>(a) / b - target);
      if (best_h < 0 || d < best_d || (d == best_d && a * b > best_h * best_w)) {
        best_h = a;
        best_w = b;
        best_d = d;
      }
    }
  if (best_h < 0) {  // nothing fits under the cap: round and clamp
    best_h = std::max(1, static_cast<int>(std::lround(nph)));
    best_w = std::max(1, static_cast<int>(std::lround(npw)));
  }
  return {best_w, best_h};
}

namespace {
// The image as 8-bit RGB (HWC): grey replicated, values of an image with max < 255 scaled to 8 bits.
std::vector<uint8_t> clip_rgb8(const ImagePixels& im) {
  if (im.h <= 0 || im.w <= 0) throw Error("image", fmt::format("size {}x{} is empty", im.w, im.h));
  if (im.c != 1 && im.c != 3) throw Error("image", fmt::format("{} channels (expected 1 or 3)", im.c));
  if (im.max <= 0 || im.max > 255) throw Error("image", fmt::format("max value {} (8-bit images: 1..255)", im.max));
  if (im.pixels.size() != static_cast<size_t>(im.h) * im.w * im.c)
    throw Error("image", fmt::format("{} pixel values for {}x{}x{}", im.pixels.size(), im.w, im.h, im.c));
  std::vector<uint8_t> rgb(static_cast<size_t>(im.h) * im.w * 3);
  for (size_t p = 0; p < static_cast<size_t>(im.h) * im.w; ++p)
    for (size_t c = 0; c < 3; ++c) {  // grey replicated; values of an image with max < 255 scaled to 8 bits
      const int v = im.pixels[p * im.c + (im.c == 1 ? 0 : c)];
      rgb[p * 3 + c] = static_cast<uint8_t>(im.max == 255 ? v : std::min(255, (v * 255 + im.max / 2) / im.max));
    }
  return rgb;
}

// 8-bit RGB (HWC) -> 3 planes of (x/255 - mean) / std.
std::vector<float> clip_normalise(std::span<const uint8_t> sized, size_t plane, const ClipHparams& hp) {
  std::vector<float> chw(3 * plane);
  for (int c = 0; c < 3; ++c)
    for (size_t p = 0; p < plane; ++p)
      chw[static_cast<size_t>(c) * plane + p] =
          (static_cast<float>(sized[p * 3 + static_cast<size_t>(c)]) / 255.0f - hp.image_mean[static_cast<size_t>(c)]) /
          hp.image_std[static_cast<size_t>(c)];
  return chw;
}
}  // namespace

std::vector<float> clip_preprocess(const ImagePixels& im, const ClipHparams& hp, ClipGrid grid) {
  const std::vector<uint8_t> rgb = clip_rgb8(im);
  const int W = static_cast<int>(grid.w * hp.patch_size), H = static_cast<int>(grid.h * hp.patch_size);
  std::vector<uint8_t> sized;
  if (hp.projector == ClipProjector::Gemma3 || hp.projector == ClipProjector::Mlp) {
    // mtmd's fixed-size preprocessor, PAD_CEIL: scale by min(W/w, H/h) in float, sides rounded up
    // (at most the target), the resized image centred (integer halves) on the pad colour.
    const bool mlp = hp.projector == ClipProjector::Mlp;
    const uint8_t pad[3] = {static_cast<uint8_t>(mlp ? 122 : 0), static_cast<uint8_t>(mlp ? 116 : 0),
                            static_cast<uint8_t>(mlp ? 104 : 0)};
    if (im.w == W && im.h == H) {
      sized = rgb;
    } else {
      const float scale = std::min(static_cast<float>(W) / static_cast<float>(im.w), static_cast<float>(H) / static_cast<float>(im.h));
      const int nw = std::min(static_cast<int>(std::ceil(static_cast<float>(im.w) * scale)), W);
      const int nh = std::min(static_cast<int>(std::ceil(static_cast<float>(im.h) * scale)), H);
      const std::vector<uint8_t> inner =
          resize_pillow(rgb, im.w, im.h, nw, nh, mlp ? ResizeFilter::Bicubic : ResizeFilter::Bilinear);
      sized.resize(static_cast<size_t>(W) * H * 3);
      for (size_t p = 0; p < static_cast<size_t>(W) * H; ++p)
        for (size_t c = 0; c < 3; ++c) sized[p * 3 + c] = pad[c];
      const int ox = (W - nw) / 2, oy = (H - nh) / 2;
      for (int y = 0; y < nh; ++y)
        std::copy_n(inner.begin() + static_cast<std::ptrdiff_t>(y) * nw * 3, nw * 3,
                    sized.begin() + (static_cast<std::ptrdiff_t>(y + oy) * W + ox) * 3);
    }
  } else {
    sized = resize_pillow(rgb, im.w, im.h, W, H,
                          hp.projector == ClipProjector::MuseGlimmer ? ResizeFilter::Lanczos : ResizeFilter::Bilinear);
  }
  return clip_normalise(sized, static_cast<size_t>(W) * H, hp);
}

bool clip_tiles_images(const ClipHparams& hp) {
  return hp.projector == ClipProjector::Idefics3 && hp.preproc_image_size > 0;
}

namespace {
// mtmd-image.cpp's idefics3 sizes: the longer side to L, the other ⌊L·ratio⌋ (ratio in double) made
// even; then the tile counts rounding each side up to a multiple of S.
struct Idefics3Sizes {
  int resized_w = 0, resized_h = 0;
  int64_t cols = 0, rows = 0;
};
Idefics3Sizes idefics3_sizes(const ClipHparams& hp, int width, int height) {
  if (width <= 0 || height <= 0) throw Error("image", fmt::format("size {}x{} is empty", width, height));
  const int L = static_cast<int>(hp.preproc_image_size), S = static_cast<int>(hp.image_size);
  const double ratio = static_cast<double>(width) / height;
  Idefics3Sizes z;
  if (width >= height) {
    z.resized_w = L;
    z.resized_h = static_cast<int>(L / ratio);
    z.resized_h += z.resized_h % 2;
  } else {
    z.resized_h = L;
    z.resized_w = static_cast<int>(L * ratio);
    z.resized_w += z.resized_w % 2;
  }
  if (z.resized_w <= 0 || z.resized_h <= 0)
    throw Error("image", fmt::format("{}x{} is too elongated to tile at {} px", width, height, L));
  z.cols = (z.resized_w + S - 1) / S;
  z.rows = (z.resized_h + S - 1) / S;
  return z;
}
}  // namespace

std::pair<int64_t, int64_t> clip_tile_counts(const ClipHparams& hp, int width, int height) {
  if (!clip_tiles_images(hp)) return {0, 0};
  const Idefics3Sizes z = idefics3_sizes(hp, width, height);
  return {z.cols, z.rows};
}

ClipTiles clip_idefics3_tiles(const ImagePixels& im, const ClipHparams& hp) {
  if (!clip_tiles_images(hp)) throw Error("image", "the vision encoder does not tile images");
  const std::vector<uint8_t> rgb = clip_rgb8(im);
  const Idefics3Sizes z = idefics3_sizes(hp, im.w, im.h);
  const int S = static_cast<int>(hp.image_size);
  const int RW = static_cast<int>(z.cols) * S, RH = static_cast<int>(z.rows) * S;
  const std::vector<uint8_t> resized = resize_pillow(rgb, im.w, im.h, z.resized_w, z.resized_h, ResizeFilter::Lanczos);
  const std::vector<uint8_t> refined = resize_pillow(resized, z.resized_w, z.resized_h, RW, RH, ResizeFilter::Lanczos);
  ClipTiles out;
  out.cols = z.cols;
  out.rows = z.rows;
  const size_t plane = static_cast<size_t>(S) * S;
  out.overview = clip_normalise(resize_pillow(refined, RW, RH, S, S, ResizeFilter::Lanczos), plane, hp);
  std::vector<uint8_t> tile(plane * 3);
  for (int64_t ty = 0; ty < z.rows; ++ty)
    for (int64_t tx = 0; tx < z.cols; ++tx) {
      for (int y = 0; y < S; ++y)
        std::copy_n(refined.begin() + ((ty * S + y) * RW + tx * S) * 3, S * 3,
                    tile.begin() + static_cast<std::ptrdiff_t>(y) * S * 3);
      out.tiles.push_back(clip_normalise(tile, plane, hp));
    }
  return out;
}

}  // namespace tenx
