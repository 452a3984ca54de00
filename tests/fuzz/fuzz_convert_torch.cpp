// Fuzz target: PyTorch .pt import end to end — the zip (libzip), data.pkl through the restricted
// unpickler, storage entries, every view's offset/size/stride against its storage, float
// decoding and state_dict inference. fuzz_convert_pickle feeds the unpickler alone.
#include "fuzz/fuzz_convert_source.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz_convert_bytes(data, size, [](const std::string& path, const recur::convert::ConvertOptions& o) {
    return recur::convert::convert_torch(path, o);
  });
  return 0;
}
