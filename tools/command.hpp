// How a `recur` subcommand plugs into the CLI: each tools/cmd_<name>.cpp defines one static
// Command object; main() adds every registered command to the CLI11 app.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace recur::cli {

// setup() declares the subcommand's options on `sub` and returns the action to run when the
// subcommand was chosen; the action returns the process exit code (0 ok, 1 failure, 2 usage).
using Action = std::function<int()>;
using Setup = std::function<Action(CLI::App& sub)>;

struct Command {
  Command(std::string name, std::string description, Setup setup);
};

struct RegisteredCommand {
  std::string name;
  std::string description;
  Setup setup;
};
std::vector<RegisteredCommand>& registered_commands();

}  // namespace recur::cli
