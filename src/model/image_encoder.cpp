// Which vision input a text model runs with, and an image through it (image_encoder.hpp).
#include "tenx/model/image_encoder.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "tenx/util/error.hpp"

namespace tenx {

std::string ImageEncoder::projector_type() const {
  if (clip) return clip_projector_name(clip->hparams().projector);
  return patch ? "tenx-patch" : "";
}

ImageRows ImageEncoder::layout(const ImagePixels& image) const {
  if (clip) return clip_image_layout(*clip, image.w, image.h);
  if (!patch) throw Error("image", "the model has no image encoder");
  ImageRows out;
  out.pieces = {{"", image_to_patches(image, patch->config()).n_patches()}};
  return out;
}

ImageRows encode_image(ExecContext& ctx, const ClipModel* clip, const VisionProjector* patch, const ImagePixels& image) {
  if (clip) return clip_image_rows(ctx, *clip, image);
  if (!patch) throw Error("image", "the model has no image encoder");
  ImageRows out;
  out.rows = patch->project(ctx, image);
  out.pieces = {{"", static_cast<int64_t>(out.rows.size()) / patch->config().n_embd}};
  return out;
}

ImageRows ImageEncoder::encode(ExecContext& ctx, const ImagePixels& image) const {
  return encode_image(ctx, clip ? &*clip : nullptr, patch ? &*patch : nullptr, image);
}

ImageEncoder load_image_encoder(const std::string& model_path, const std::string& given, const Model& model,
                                const std::string& option) {
  ImageEncoder in;
  if (!given.empty()) {
    in.path = given;
    if (!std::filesystem::is_regular_file(in.path)) throw Error(in.path, option + ": no such file");
  } else {
    const std::string beside = VisionProjector::path_for_model(model_path);
    if (!std::filesystem::exists(beside)) return in;
    in.path = beside;
  }
  ModelFile file = load_gguf(in.path);
  const std::string arch = file.meta.get_string("general.architecture", in.path).value_or("");
  int64_t width = 0;
  if (arch == "clip") {
    in.clip = ClipModel::from_file(std::move(file));
    width = in.clip->hparams().n_embd_out;
  } else if (arch == "tenx-patch") {
    in.patch = VisionProjector::from_file(std::move(file));
    width = in.patch->config().n_embd;
  } else {
    throw Error(in.path, fmt::format("general.architecture is '{}': not a vision encoder (clip, an llama.cpp mmproj) "
                                     "nor a tenx-patch projector",
                                     arch));
  }
  if (width != model.config.n_embd)
    throw Error(in.path, fmt::format("its image rows are {} wide but the text model {} embeds tokens in {}: the "
                                     "projector belongs to another model",
                                     width, model_path, model.config.n_embd));
  return in;
}

}  // namespace tenx
