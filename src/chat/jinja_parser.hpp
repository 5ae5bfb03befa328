#pragma once
// Template text -> statement tree (throws SyntaxError naming the template, line and column).
#include <string>

#include "jinja_ast.hpp"

namespace tenx::jinja::detail {

Body parse(const std::string& source, const std::string& name);

}  // namespace tenx::jinja::detail
