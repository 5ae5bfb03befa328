#pragma once
// The `usage` object both response parsers read (completion.cpp, chat.cpp).
#include <nlohmann/json.hpp>

#include "tenx/remote/completion.hpp"

namespace tenx::remote {

// prompt_tokens required, completion/total tokens optional, tenx serve's flops when present.
// Throws tenx::Error(subject, ...) naming the field.
CompletionUsage usage_of(const nlohmann::json& usage, const char* subject);

}  // namespace tenx::remote
