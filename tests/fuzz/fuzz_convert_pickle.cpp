// Fuzz target: the restricted unpickler for PyTorch's data.pkl on arbitrary bytes. It must
// return a value or a Status, never crash, hang or call anything.
#include <cstddef>
#include <cstdint>

#include "tools/convert/torch_pickle.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = recur::convert::read_state_dict_pickle(data, size, "fuzz.pkl", recur::convert::pickle_object_budget(64));
  if (r.ok()) {
    for (const auto& t : r->tensors)
      if (t.type == nullptr) __builtin_trap();  // every accepted tensor names a known storage type
  }
  return 0;
}
