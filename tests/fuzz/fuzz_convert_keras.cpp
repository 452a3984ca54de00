// Fuzz target: Keras import — a .keras zip (config.json + model.weights.h5, read from memory) or a
// legacy .h5 (model_config attribute + weights), through libhdf5 and the layer config walk.
#include "fuzz/fuzz_convert_source.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz_convert_bytes(data, size, [](const std::string& path, const recur::convert::ConvertOptions& o) {
    return recur::convert::convert_keras(path, o);
  });
  return 0;
}
