#pragma once
// Hugging Face config.json -> ModelConfig: the one reader behind `tenx convert` / loading a
// Hugging Face directory (model/hf_loader.cpp) and `--arch config.json` for remote models
// (remote/arch.cpp). An unknown model_type, or a rope_scaling tenx cannot compute, is an error
// in both.
#include <nlohmann/json.hpp>
#include <string>

#include "tenx/model/config.hpp"

namespace tenx {

// subject names the file in errors. Fills n_vocab and tied_output from the config, the layers
// from the family, and rope_freq_factors (rope_type "llama3") or rope_freq_scale ("linear").
ModelConfig config_from_hf(const nlohmann::json& cfg, const std::string& subject);

}  // namespace tenx
