// Fuzz target: the .recur reader on arbitrary bytes. Whatever parses must also validate, write
// back to the same bytes' meaning, and load into a Model that can take a step.
#include <cstddef>
#include <cstdint>

#include "recur/format.hpp"
#include "recur/model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  recur::ReadOptions options;
  options.verify_checksum = false;  // let the fuzzer reach the checks behind the checksum
  recur::Result<recur::ModelFile> file = recur::parse_model(data, size, "fuzz.recur", options);
  if (!file.ok()) return 0;
  // A file that parsed is a valid model: it must serialize and parse back identically.
  recur::Result<std::vector<uint8_t>> bytes = recur::serialize_model(file->spec);
  if (!bytes.ok()) __builtin_trap();
  recur::Result<recur::ModelFile> again = recur::parse_model(bytes->data(), bytes->size(), "again");
  if (!again.ok() || !(again->spec == file->spec)) __builtin_trap();
  // And it must run one step without trouble.
  recur::Result<recur::Model> model = recur::Model::from_spec(file->spec);
  if (!model.ok()) return 0;
  bool streamable = true;
  for (const recur::RecurrentLayer& l : file->spec.layers) streamable &= l.direction == recur::Direction::forward;
  if (!streamable || model->input_size() > 4096 || model->output_size() > 4096) return 0;
  recur::Result<recur::State> state = model->new_state(1);
  if (!state.ok()) return 0;
  std::vector<float> x(static_cast<size_t>(model->input_size()), 0.5f);
  std::vector<float> y(static_cast<size_t>(model->output_size()));
  recur::RunOptions run;
  run.threads = 1;
  (void)model->step(*state, x.data(), y.data(), run);
  return 0;
}
