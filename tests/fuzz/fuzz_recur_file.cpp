// Fuzz target: the .recur reader on arbitrary bytes, both ways a file is read: parse_model (the
// whole spec in memory) and Model::load (the streaming reader that packs weights as it reads,
// here from an in-memory file). Both must agree on whether the bytes are a model; whatever parses
// must write back to the same meaning, and both models must take the same step bit for bit.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "recur/format.hpp"
#include "recur/model.hpp"

namespace {

recur::Result<recur::Model> load_via_file(const uint8_t* data, size_t size) {
  const int fd = memfd_create("recur_fuzz_model", 0);
  if (fd < 0) return recur::Status(recur::Errc::io, "memfd_create failed");
  size_t done = 0;
  while (done < size) {
    const ssize_t n = write(fd, data + done, size - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  recur::LoadOptions options;
  options.verify_checksum = false;
  recur::Result<recur::Model> m = recur::Model::load("/proc/self/fd/" + std::to_string(fd), options);
  close(fd);
  return m;
}

// y of one step from a zero state on x = 0.5, or empty if the model cannot step.
std::vector<float> one_step(const recur::Model& model) {
  for (const recur::LayerConfig& l : model.config().layers) {
    if (l.direction != recur::Direction::forward) return {};
  }
  if (model.input_size() > 4096 || model.output_size() > 4096) return {};
  recur::Result<recur::State> state = model.new_state(1);
  if (!state.ok()) return {};
  std::vector<float> x(static_cast<size_t>(model.input_size()), 0.5f);
  std::vector<float> y(static_cast<size_t>(model.output_size()));
  recur::RunOptions run;
  run.threads = 1;
  if (!model.step(*state, x.data(), y.data(), run).ok()) return {};
  return y;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  recur::ReadOptions options;
  options.verify_checksum = false;  // let the fuzzer reach the checks behind the checksum
  recur::Result<recur::ModelFile> file = recur::parse_model(data, size, "fuzz.recur", options);
  recur::Result<recur::Model> loaded = load_via_file(data, size);
  if (file.ok() != loaded.ok()) __builtin_trap();
  if (!file.ok()) return 0;
  // A file that parsed is a valid model: it must serialize and parse back identically.
  recur::Result<std::vector<uint8_t>> bytes = recur::serialize_model(file->spec);
  if (!bytes.ok()) __builtin_trap();
  recur::Result<recur::ModelFile> again = recur::parse_model(bytes->data(), bytes->size(), "again");
  if (!again.ok() || !(again->spec == file->spec)) __builtin_trap();
  // And it must run one step, the same from the parsed spec as from the streamed load.
  recur::Result<recur::Model> model = recur::Model::from_spec(file->spec);
  if (!model.ok()) __builtin_trap();
  const std::vector<float> y = one_step(*model);
  const std::vector<float> y_loaded = one_step(*loaded);
  if (y.size() != y_loaded.size() ||
      (!y.empty() && std::memcmp(y.data(), y_loaded.data(), y.size() * sizeof(float)) != 0)) {
    __builtin_trap();
  }
  return 0;
}
