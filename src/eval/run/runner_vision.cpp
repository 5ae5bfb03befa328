// Which vision input a local model runs with (runner_internal.hpp, docs/vision.md).
#include <fmt/format.h>

#include <filesystem>

#include "runner_internal.hpp"
#include "tenx/util/error.hpp"

namespace tenx::eval::detail {

ImageInput load_image_input(const ModelArg& arg, const std::map<std::string, std::string>& mmproj_files,
                            const Model& model) {
  ImageInput in;
  const auto given = mmproj_files.find(arg.name);
  if (given != mmproj_files.end()) {
    in.path = given->second;
    if (!std::filesystem::is_regular_file(in.path))
      throw Error(in.path, fmt::format("--mmproj {}: no such file", arg.name));
  } else {
    const std::string beside = VisionProjector::path_for_model(arg.path);
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
                                     width, arg.path, model.config.n_embd));
  return in;
}

}  // namespace tenx::eval::detail
