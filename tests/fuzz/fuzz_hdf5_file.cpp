// Fuzz target: the HDF5 wrapper the Keras importer reads through (tools/convert/hdf5_file.cpp),
// on the bytes as an in-memory file image: open (user-block check), the legacy model_config and
// weight_names attributes, and datasets along the paths Keras writes (link types, external
// storage, virtual layout, stored size, type width) before libhdf5 reads them.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tools/convert/hdf5_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> image(data, data + size);
  auto file = recur::convert::H5File::open("fuzz.h5", "fuzz.h5", &image);
  if (!file.ok()) return 0;
  const recur::convert::H5File& f = **file;
  (void)f.string_attr("/", "model_config");
  for (const char* group : {"model_weights/lstm", "model_weights/lstm/lstm", "model_weights/dense"}) {
    auto names = f.string_attr(group, "weight_names");
    if (!names.ok()) continue;
    for (const std::string& n : *names) (void)f.dataset(std::string(group) + "/" + n, 2);
  }
  for (const char* path : {"layers/lstm/cell/vars/0", "layers/lstm/cell/vars/1", "layers/dense/vars/0",
                           "kernel"})
    (void)f.dataset(path, 2);
  return 0;
}
