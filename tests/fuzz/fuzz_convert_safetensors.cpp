// Fuzz target: .safetensors import (header length, JSON, offsets, dtypes) and the state_dict ->
// ModelSpec inference behind it.
#include "fuzz/fuzz_convert_source.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz_convert_bytes(data, size, [](const std::string& path, const recur::convert::ConvertOptions& o) {
    return recur::convert::convert_safetensors(path, o);
  });
  return 0;
}
