#pragma once
// JSON pieces the completions and chat bodies share (response.cpp, chat_response.cpp).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tenx/serve/response.hpp"

namespace tenx::serve {

// Text that is not valid UTF-8 (a byte-level token cut inside a character) as U+FFFD.
std::string dump_json(const nlohmann::ordered_json& j);
// {"prompt_tokens","completion_tokens","total_tokens","flops","flops_convention"} over the choices.
nlohmann::ordered_json usage_json(const std::vector<SequenceResult>& choices);

}  // namespace tenx::serve
