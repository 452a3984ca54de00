// `recur` — the command-line tool: convert, inspect, run, bench, verify.
#include <cstdio>
#include <map>

#include "recur/model.hpp"
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
  CLI::App app{"recur: fast inference for recurrent networks (RNN, LSTM, GRU) on CPUs"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "recur 0.1.0");
  std::map<const CLI::App*, recur::cli::Action> actions;
  for (auto& command : recur::cli::registered_commands()) {
    CLI::App* sub = app.add_subcommand(command.name, command.description);
    actions[sub] = command.setup(*sub);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  for (auto& [sub, action] : actions) {
    if (sub->parsed()) return action();
  }
  return 2;
}
