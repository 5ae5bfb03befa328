// Which vision input a local model runs with (runner_internal.hpp, docs/vision.md): the model
// layer's choice (image_encoder.hpp), which tenx serve makes the same way.
#include "runner_internal.hpp"

namespace tenx::eval::detail {

ImageInput load_image_input(const ModelArg& arg, const std::map<std::string, std::string>& mmproj_files,
                            const Model& model) {
  const auto given = mmproj_files.find(arg.name);
  return load_image_encoder(arg.path, given == mmproj_files.end() ? std::string() : given->second, model,
                            "--mmproj " + arg.name);
}

}  // namespace tenx::eval::detail
