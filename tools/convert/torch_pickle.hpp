// The restricted unpickler for PyTorch's data.pkl (torch.save zip format): it knows only the
// opcodes and globals a state_dict needs — collections.OrderedDict, torch._utils.
// _rebuild_tensor_v2 / _rebuild_parameter and torch.*Storage persistent ids — and refuses
// anything else with the global's name (os.system, builtins.eval, __main__.Net, ...). Nothing
// is ever called: REDUCE only builds the three known shapes of value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "recur/status.hpp"

namespace recur::convert {

struct StorageType {
  const char* global;  // e.g. "torch.FloatStorage"
  const char* dtype;   // e.g. "float32"
  int bytes;           // element size
  bool is_float;
};
// nullptr when `global` is not a storage type this reader knows.
const StorageType* storage_type(const std::string& global);

// One state_dict entry: a strided view into storage data/<key> of the archive.
struct PickledTensor {
  std::string name;
  const StorageType* type = nullptr;
  std::string key;             // storage file data/<key>
  int64_t storage_numel = 0;   // elements in the storage
  int64_t offset = 0;          // view offset, elements
  std::vector<int64_t> size, stride;
};

struct PickledStateDict {
  std::vector<PickledTensor> tensors;  // in pickle order
  std::string from_key;                // non-empty: taken from checkpoint[from_key]
};

// Decodes data.pkl holding a state_dict ({name: tensor}), or a training checkpoint dict whose
// "state_dict" / "model_state_dict" / "model" entry is one; `name` prefixes error messages.
// Errors: unsupported (a global or callable outside the allow-list, not a dict of tensors),
// bad_metadata (an opcode outside the allow-list, malformed stack, more than `max_objects`
// values built), truncated.
Result<PickledStateDict> read_state_dict_pickle(const uint8_t* data, size_t size, const std::string& name,
                                                size_t max_objects);

// What a state_dict pickle over `storages` storage entries can need: values built, bytes.
size_t pickle_object_budget(size_t storages);
uint64_t pickle_byte_budget(size_t storages);

}  // namespace recur::convert
