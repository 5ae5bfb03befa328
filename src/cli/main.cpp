// tenx: the command-line front end. Subcommands live in cmd_*.cpp.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <exception>

#include "command.hpp"
#include "tenx/util/error.hpp"

namespace tenx::cli {

std::vector<CommandEntry>& command_registry() {
  static std::vector<CommandEntry> registry;
  return registry;
}

int& exit_code() {
  static int code = 0;
  return code;
}

}  // namespace tenx::cli

int main(int argc, char** argv) {
  CLI::App app{"tenx: does a compact model match a larger one at ~10x less compute?"};
  app.set_version_flag("--version", std::string("tenx ") + TENX_VERSION);
  app.require_subcommand(1);
  auto& registry = tenx::cli::command_registry();
  std::sort(registry.begin(), registry.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  for (auto& entry : registry) entry.setup(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 prints help/usage; wrong flags are bad input (exit 2).
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  } catch (const tenx::Error& e) {
    std::fflush(stdout);
    fmt::print(stderr, "tenx: error: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "tenx: error: {}\n", e.what());
    return 2;
  }
  return tenx::cli::exit_code();
}
