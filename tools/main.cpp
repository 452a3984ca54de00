// `recur` — the command-line tool: convert, inspect, run, bench, verify.
#include <cstdio>
#include <map>

#include "recur/model.hpp"
#include "recur/recur.h"
#include "tools/command.hpp"

namespace recur::cli {

std::vector<RegisteredCommand>& registered_commands() {
  static std::vector<RegisteredCommand> commands;
  return commands;
}

Command::Command(std::string name, std::string description, Setup setup) {
  registered_commands().push_back({std::move(name), std::move(description), std::move(setup)});
}

}  // namespace recur::cli

int main(int argc, char** argv) {
  // Line-buffered even into a pipe or a file, so a long command's lines arrive as they happen.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  CLI::App app{"recur: fast inference for recurrent networks (RNN, LSTM, GRU) on CPUs"};
  app.require_subcommand(1);
  app.option_defaults()->always_capture_default();  // --help shows every default
  app.set_version_flag("--version", std::string("recur ") + recur_version());
  std::map<const CLI::App*, recur::cli::Action> actions;
  for (auto& command : recur::cli::registered_commands()) {
    CLI::App* sub = app.add_subcommand(command.name, command.description);
    actions[sub] = command.setup(*sub);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2 (docs/errors.md), whatever
    // CLI11's own code for it (104..114).
    return app.exit(e) == 0 ? 0 : 2;
  }
  for (auto& [sub, action] : actions) {
    if (sub->parsed()) return action();
  }
  return 2;
}
