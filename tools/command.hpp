// How a `recur` subcommand plugs into the CLI: each tools/cmd_<name>.cpp defines one static
// Command object; main() adds every registered command to the CLI11 app.
#pragma once

#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

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
      ->transform(CLI::CheckedTransformer(formats, CLI::ignore_case))
      ->default_str("f32");
  const std::map<std::string, Precision> precisions{
      {"file", Precision::file}, {"f32", Precision::f32}, {"bf16", Precision::bf16}, {"int8", Precision::int8}};
  sub.add_option("--precision", options.precision,
                 "file (default: the file's own) | f32 | int8: dynamic quantization of the layers' "
                 "products (docs/precision.md) | bf16 (not implemented yet)")
      ->transform(CLI::CheckedTransformer(precisions, CLI::ignore_case))
      ->default_str("file");
}

// --json[=FILE], the same in every command that writes JSON: `--json` or `--json=-` prints it
// on stdout (instead of the text), `--json=FILE` writes FILE. A flag, so a following argument
// is never taken for FILE (`inspect --json m.recur` must not overwrite the model). `target`
// stays empty when --json is absent.
inline void add_json_flag(CLI::App& sub, std::string& target, const std::string& what) {
  sub.add_flag("--json{-}", target, what + " as JSON: --json or --json=- on stdout, --json=FILE to FILE");
}
inline bool json_to_stdout(const std::string& target) { return target == "-"; }

// Writes `doc` where add_json_flag's target says; false (message on stderr) when FILE cannot
// be written.
inline bool write_json(const std::string& target, const nlohmann::json& doc, const char* command) {
  if (json_to_stdout(target)) {
    std::printf("%s\n", doc.dump(2).c_str());
    return true;
  }
  std::ofstream f(target);
  f << doc.dump(2) << "\n";
  f.close();
  if (!f) {
    std::fprintf(stderr, "recur %s: io: %s: cannot write\n", command, target.c_str());
    return false;
  }
  return true;
}

}  // namespace recur::cli
