// idefics3 tiling (SmolVLM, clip.vision.preproc_image_size): the tile counts from the sizes worked
// by hand from mtmd-image.cpp's rule, the tiles cut from a refined image the test resizes itself,
// every tile's and the overview's rows against the float64 oracle, the marker text between them as
// mtmd lays it out, and counted == analytic for the whole image.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "clip_oracle.hpp"
#include "tenx/model/clip.hpp"
#include "tenx/util/error.hpp"

namespace tenx {
namespace {

ClipInitSpec tiling_spec(int64_t longest_edge) {
  ClipInitSpec s;
  s.projector = ClipProjector::Idefics3;
  s.image_size = 32;
  s.patch_size = 4;
  s.n_embd = 32;
  s.n_ff = 96;
  s.n_layer = 2;
  s.n_head = 4;
  s.n_embd_out = 48;
  s.scale_factor = 2;
  s.preproc_image_size = longest_edge;
  s.seed = 5;
  return s;
}

// A w × h RGB test pattern, 8-bit.
std::vector<uint8_t> pattern_rgb(int w, int h) {
  std::vector<uint8_t> px(static_cast<size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c)
        px[(static_cast<size_t>(y) * w + x) * 3 + c] = static_cast<uint8_t>((x * 7 + y * 13 + c * 50 + x * y) % 256);
  return px;
}

std::vector<float> normalised(const std::vector<uint8_t>& rgb, const ClipHparams& hp) {
  const size_t plane = rgb.size() / 3;
  std::vector<float> chw(rgb.size());
  for (size_t c = 0; c < 3; ++c)
    for (size_t p = 0; p < plane; ++p)
      chw[c * plane + p] = (static_cast<float>(rgb[p * 3 + c]) / 255.0f - hp.image_mean[c]) / hp.image_std[c];
  return chw;
}

TEST(ClipTiling, TileCountsFollowMtmdsSizes) {
  const ClipModel m = ClipModel::from_file(make_random_clip(tiling_spec(96)));
  EXPECT_EQ(m.hparams().preproc_image_size, 96);
  // 50×30 landscape: 96 × ⌊96/(50/30)⌋ = 96 × 57 -> 58 (even); tiles ⌈96/32⌉ × ⌈58/32⌉ = 3 × 2.
  EXPECT_EQ(clip_tile_counts(m.hparams(), 50, 30), (std::pair<int64_t, int64_t>{3, 2}));
  // 30×50 portrait: ⌊96·0.6⌋ = 57 -> 58 × 96: 2 × 3.
  EXPECT_EQ(clip_tile_counts(m.hparams(), 30, 50), (std::pair<int64_t, int64_t>{2, 3}));
  // 8×8 (the suite's digits): 96 × 96: 3 × 3.
  EXPECT_EQ(clip_tile_counts(m.hparams(), 8, 8), (std::pair<int64_t, int64_t>{3, 3}));
  // Without the key nothing tiles.
  const ClipModel plain = ClipModel::from_file(make_random_clip(tiling_spec(0)));
  EXPECT_EQ(clip_tile_counts(plain.hparams(), 50, 30), (std::pair<int64_t, int64_t>{0, 0}));
  // Only idefics3 writes the key.
  ClipInitSpec mlp = tiling_spec(96);
  mlp.projector = ClipProjector::Mlp;
  EXPECT_THROW(make_random_clip(mlp), Error);
}

TEST(ClipTiling, TilesAndOverviewMatchTheFloat64OracleInMtmdsLayout) {
  const ClipModel m = ClipModel::from_file(make_random_clip(tiling_spec(96)));
  const ClipHparams& hp = m.hparams();
  const int W = 50, H = 30, S = 32;
  const std::vector<uint8_t> rgb = pattern_rgb(W, H);
  const ImagePixels image{H, W, 3, 255, std::span<const uint8_t>(rgb)};

  // The test's own cut: resize to 96 × 58, stretch to 96 × 64, tiles row-major, overview 32 × 32.
  const std::vector<uint8_t> resized = resize_pillow(rgb, W, H, 96, 58, ResizeFilter::Lanczos);
  const std::vector<uint8_t> refined = resize_pillow(resized, 96, 58, 96, 64, ResizeFilter::Lanczos);
  std::vector<std::vector<float>> inputs;
  for (int ty = 0; ty < 2; ++ty)
    for (int tx = 0; tx < 3; ++tx) {
      std::vector<uint8_t> tile;
      for (int y = 0; y < S; ++y)
        for (int x = 0; x < S; ++x)
          for (int c = 0; c < 3; ++c) tile.push_back(refined[((static_cast<size_t>(ty) * S + y) * 96 + tx * S + x) * 3 + c]);
      inputs.push_back(normalised(tile, hp));
    }
  inputs.push_back(normalised(resize_pillow(refined, 96, 64, S, S, ResizeFilter::Lanczos), hp));

  const ClipTiles t = clip_idefics3_tiles(image, hp);
  ASSERT_EQ(t.cols, 3);
  ASSERT_EQ(t.rows, 2);
  ASSERT_EQ(t.tiles.size(), 6u);
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(t.tiles[i], inputs[i]) << "tile " << i;
  EXPECT_EQ(t.overview, inputs[6]);

  ExecContext ctx(2);
  const ImageRows rows = clip_image_rows(ctx, m, image);
  // mtmd.cpp's idefics3 layout: <fake_token_around_image><row_r_col_c> before each tile, "\n" after
  // each row but the last, then the overview between "\n\n<fake_token_around_image><global-img>"
  // and "<fake_token_around_image>".
  const int64_t per = hp.n_output_tokens();
  const std::vector<std::string> texts = {
      "<fake_token_around_image><row_1_col_1>",   "<fake_token_around_image><row_1_col_2>",
      "<fake_token_around_image><row_1_col_3>",   "\n<fake_token_around_image><row_2_col_1>",
      "<fake_token_around_image><row_2_col_2>",   "<fake_token_around_image><row_2_col_3>",
      "\n\n<fake_token_around_image><global-img>", "<fake_token_around_image>"};
  ASSERT_EQ(rows.pieces.size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(rows.pieces[i].text, texts[i]) << i;
    EXPECT_EQ(rows.pieces[i].rows, i + 1 < texts.size() ? per : 0) << i;
  }
  ASSERT_EQ(rows.rows.size(), static_cast<size_t>(7 * per * hp.n_embd_out));
  for (size_t i = 0; i < 7; ++i) {
    const std::vector<double> want = oracle::encode(m.file(), inputs[i]);
    ASSERT_EQ(want.size(), static_cast<size_t>(per * hp.n_embd_out));
    double diff = 0, scale = 0;
    for (size_t k = 0; k < want.size(); ++k) {
      diff = std::max(diff, std::abs(static_cast<double>(rows.rows[i * want.size() + k]) - want[k]));
      scale = std::max(scale, std::abs(want[k]));
    }
    EXPECT_LT(diff / scale, 1e-5) << "encode " << i;
  }
  // Counted == analytic: seven encodes of one 8 × 8 grid.
  EXPECT_EQ(ctx.counters, analytic_clip_image_input(m, W, H));
  Counters seven;
  for (int i = 0; i < 7; ++i) seven += analytic_clip_image(m);
  EXPECT_EQ(analytic_clip_image_input(m, W, H), seven);
}

}  // namespace
}  // namespace tenx
