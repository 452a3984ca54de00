// How a `recur` subcommand plugs into the CLI: each tools/cmd_<name>.cpp defines one static
// Command object; main() adds every registered command to the CLI11 app.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "recur/model.hpp"

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

// --recurrent-weights f32|bf16 (LoadOptions::recurrent_weights) and --precision
// (LoadOptions::precision), for the commands that load.
inline void add_load_options(CLI::App& sub, LoadOptions& options) {
  const std::map<std::string, WeightFormat> formats{{"f32", WeightFormat::f32}, {"bf16", WeightFormat::bf16}};
  sub.add_option("--recurrent-weights", options.recurrent_weights,
                 "f32 (default) | bf16: keep the recurrent matrices as bfloat16 (half the bytes per "
                 "step; results are those of the model with R rounded to bf16)")
      ->transform(CLI::CheckedTransformer(formats, CLI::ignore_case));
  const std::map<std::string, Precision> precisions{
      {"file", Precision::file}, {"f32", Precision::f32}, {"bf16", Precision::bf16}, {"int8", Precision::int8}};
  sub.add_option("--precision", options.precision,
                 "file (default: the file's own) | f32 | int8: dynamic quantization of the layers' "
                 "products (docs/precision.md) | bf16 (not implemented yet)")
      ->transform(CLI::CheckedTransformer(precisions, CLI::ignore_case));
}

}  // namespace recur::cli
