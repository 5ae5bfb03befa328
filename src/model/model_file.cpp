// ModelFile lookups and the file-or-directory dispatch.
#include <filesystem>

#include "tenx/model/model_file.hpp"
#include "tenx/util/error.hpp"

namespace tenx {

const TensorView* ModelFile::find(std::string_view name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

ModelFile load_model_file(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) throw Error(path, "no such file or directory");
  if (std::filesystem::is_directory(status)) return load_hf_dir(path);
  return load_gguf(path);
}

}  // namespace tenx
