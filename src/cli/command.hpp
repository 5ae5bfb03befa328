#pragma once
// Subcommand registry: each src/cli/cmd_*.cpp registers itself with a static
// Registrar, so adding a subcommand touches one file. A command's callback
// throws tenx::Error on bad input; main prints `tenx: error: ...` and exits 2.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace tenx::cli {

using CommandSetup = std::function<void(CLI::App& parent)>;

struct CommandEntry {
  std::string name;  // for ordering the help text
  CommandSetup setup;
};

std::vector<CommandEntry>& command_registry();

struct Registrar {
  Registrar(std::string name, CommandSetup setup) {
    command_registry().push_back({std::move(name), std::move(setup)});
  }
};

// Set by a command whose outcome is not plain success (verify, compare: 3, 4, 1).
int& exit_code();

}  // namespace tenx::cli
