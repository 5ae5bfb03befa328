// An image's place in the text model's input: the encoder's rows and the marker text llama.cpp's
// mtmd writes around them for each projector (clip.hpp, docs/vision.md).
#include <fmt/format.h>

#include "tenx/model/clip.hpp"
#include "tenx/util/error.hpp"

namespace tenx {

ClipImageMarkers clip_image_markers(ClipProjector projector) {
  switch (projector) {
    case ClipProjector::Mlp: return {"", ""};  // LLaVA: the rows alone
    case ClipProjector::Idefics3: return {"\n\n<fake_token_around_image><global-img>", "<fake_token_around_image>"};
    case ClipProjector::Gemma3: return {"<start_of_image>", "<end_of_image>"};
    case ClipProjector::MuseGlimmer: return {"<|image_start|>", "<|image_end|>"};
  }
  return {"", ""};
}

bool clip_rows_see_each_other(ClipProjector projector) { return projector == ClipProjector::Gemma3; }

ImageRows clip_image_layout(const ClipModel& model, int width, int height) {
  const ClipHparams& hp = model.hparams();
  const ClipImageMarkers m = clip_image_markers(hp.projector);
  ImageRows out;
  out.rows_see_each_other = clip_rows_see_each_other(hp.projector);
  if (!clip_tiles_images(hp)) {
    out.pieces.push_back({m.begin, hp.n_output_tokens(model.grid_for(width, height))});
  } else {
    // mtmd's idefics3 layout: the tiles row by row ("\n" between rows), then the overview.
    const auto [cols, rows] = clip_tile_counts(hp, width, height);
    const int64_t per_tile = hp.n_output_tokens();
    for (int64_t y = 0; y < rows; ++y)
      for (int64_t x = 0; x < cols; ++x)
        out.pieces.push_back(
            {fmt::format("{}<fake_token_around_image><row_{}_col_{}>", x == 0 && y > 0 ? "\n" : "", y + 1, x + 1),
             per_tile});
    out.pieces.push_back({m.begin, per_tile});
  }
  out.pieces.push_back({m.end, 0});
  return out;
}

ImageRows clip_image_rows(ExecContext& ctx, const ClipModel& model, const ImagePixels& image) {
  const ClipHparams& hp = model.hparams();
  ImageRows out = clip_image_layout(model, image.w, image.h);
  if (!clip_tiles_images(hp)) {
    out.rows = model.encode(ctx, image);
  } else {
    const ClipTiles t = clip_idefics3_tiles(image, hp);
    for (const std::vector<float>& tile : t.tiles) {
      const std::vector<float> rows = model.encode_normalized(ctx, tile);
      out.rows.insert(out.rows.end(), rows.begin(), rows.end());
    }
    const std::vector<float> overview = model.encode_normalized(ctx, t.overview);
    out.rows.insert(out.rows.end(), overview.begin(), overview.end());
  }
  if (static_cast<int64_t>(out.rows.size()) != out.n_rows() * hp.n_embd_out)
    throw Error("image", fmt::format("the encoder gave {} values, its layout says {} rows of {}", out.rows.size(),
                                     out.n_rows(), hp.n_embd_out));
  return out;
}

Counters analytic_clip_image_input(const ClipModel& model, int width, int height) {
  const Counters one = analytic_clip_image(model, model.grid_for(width, height));
  const auto [cols, rows] = clip_tile_counts(model.hparams(), width, height);
  Counters all;
  for (int64_t i = 0; i < cols * rows + 1; ++i) all += one;
  return all;
}

}  // namespace tenx
