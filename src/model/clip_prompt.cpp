// An image's place in the text model's input: the encoder's rows and the marker text llama.cpp's
// mtmd writes around them for each projector (clip.hpp, docs/vision.md).
#include "tenx/model/clip.hpp"

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

ImageRows clip_image_rows(ExecContext& ctx, const ClipModel& model, const ImagePixels& image) {
  ImageRows out;
  out.rows = model.encode(ctx, image);
  out.n = static_cast<int64_t>(out.rows.size()) / model.hparams().n_embd_out;
  const ClipImageMarkers m = clip_image_markers(model.hparams().projector);
  out.begin = m.begin;
  out.end = m.end;
  return out;
}

}  // namespace tenx
