#pragma once
// A text model's image input, as `tenx run` and `tenx serve` both take it (docs/vision.md, "In tenx
// run"; docs/serve.md, "Images"): the mmproj file given (`--mmproj`), else NAME.mmproj.gguf beside
// the model (a Hugging Face folder: its mmproj.gguf), read as what its general.architecture says:
// a llama.cpp vision encoder ("clip", clip.hpp) or tenx's own patch projector ("tenx-patch",
// vision.hpp). An image becomes its decoder rows with the projector's marker text around them
// (ImageRows), which splice_image_rows puts where a prompt's marker is.
#include <optional>
#include <string>

#include "tenx/model/clip.hpp"
#include "tenx/model/model.hpp"
#include "tenx/model/vision.hpp"

namespace tenx {

struct ImageEncoder {
  std::optional<VisionProjector> patch;
  std::optional<ClipModel> clip;
  std::string path;  // empty: the model has none

  bool has_encoder() const { return patch.has_value() || clip.has_value(); }
  // "mlp", "idefics3", "gemma3", "muse-glimmer", "tenx-patch"; "" without an encoder.
  std::string projector_type() const;
  // The image's pieces (marker text, row counts) without encoding it: how many positions it takes
  // in a prompt, known before any compute. Throws tenx::Error when the image cannot be encoded
  // (larger than a tenx-patch grid, or inconsistent).
  ImageRows layout(const ImagePixels& image) const;
  // The same pieces with their rows (n_embd wide), counted under ctx.phase: the clip encoder's with
  // its marker text (clip_image_rows), or the tenx-patch projector's rows alone.
  ImageRows encode(ExecContext& ctx, const ImagePixels& image) const;
};

// An image's rows through `clip` when given (clip_image_rows: its marker text around the rows), else
// through the tenx-patch `patch` projector (its rows alone). Throws tenx::Error when neither is given.
ImageRows encode_image(ExecContext& ctx, const ClipModel* clip, const VisionProjector* patch, const ImagePixels& image);

// The model's encoder: `given` when not empty (a missing file is an error naming it and `option`),
// else the file beside `model_path` when it exists, else none. Throws tenx::Error naming the
// mmproj file when it is neither kind of encoder, and naming both files when its rows are not as
// wide as the model's embeddings.
ImageEncoder load_image_encoder(const std::string& model_path, const std::string& given, const Model& model,
                                const std::string& option = "--mmproj");

}  // namespace tenx
