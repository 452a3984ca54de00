// Fuzz target: ONNX import (protobuf parse, tensor decoding, the graph walk and its checks).
#include "fuzz/fuzz_convert_source.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz_convert_bytes(data, size, [](const std::string& path, const recur::convert::ConvertOptions& o) {
    return recur::convert::convert_onnx(path, o);
  });
  return 0;
}
