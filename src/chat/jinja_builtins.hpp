#pragma once
// The filter and test names the engine implements, so the parser can reject an unknown one with
// its position, as Jinja2 does when it compiles the template.
#include <string>

namespace tenx::jinja::detail {

bool is_known_filter(const std::string& name);
bool is_known_test(const std::string& name);

}  // namespace tenx::jinja::detail
