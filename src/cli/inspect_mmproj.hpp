#pragma once
// tenx inspect on a llama.cpp mmproj file (general.architecture "clip"): the vision encoder's
// parameters and its compute per image at its resolution (docs/vision.md).
#include <string>

namespace tenx::cli {

// True when `path` is a GGUF whose general.architecture is "clip" (it was then printed).
bool inspect_if_mmproj(const std::string& path, bool json, bool all_keys);

}  // namespace tenx::cli
