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
// A ConditionalGeneration's text_config is merged over the top level, as llama.cpp's converter
// does; the family is decided by the top level's model_type / architectures[0].
ModelConfig config_from_hf(const nlohmann::json& cfg, const std::string& subject);

// config.json with its text_config (if any) merged over the top level: the keys the text model
// reads (the loader's qk_scale_factor, for one).
nlohmann::json hf_text_config(const nlohmann::json& cfg);

}  // namespace tenx
