// Read-only access to an HDF5 file (a Keras .h5, or the model.weights.h5 inside a .keras zip)
// through libhdf5: float datasets as fp32 tensors and string attributes, each checked before
// libhdf5 is asked to read it (type width, rank, size, data really in this file: no external
// links, external storage, virtual datasets or user blocks).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "recur/spec.hpp"
#include "recur/status.hpp"

namespace recur::convert {

class H5File {
 public:
  // From a file on disk, or from bytes held in memory (the .keras zip's model.weights.h5).
  // `label` names the file in messages.
  static Result<std::unique_ptr<H5File>> open(const std::string& path, const std::string& label,
                                              const std::vector<uint8_t>* image = nullptr);
  ~H5File();
  H5File(const H5File&) = delete;
  H5File& operator=(const H5File&) = delete;

  const std::string& label() const { return label_; }
  // Whether every link along `path` ("a/b/c") exists; unsupported at an external or soft link.
  Result<bool> find(const std::string& path) const;
  // A float dataset as fp32 with its shape; `rank` must match.
  Result<Tensor> dataset(const std::string& path, size_t rank) const;
  // A string attribute (scalar or 1-D; fixed-length or variable-length) of object `obj`.
  Result<std::vector<std::string>> string_attr(const std::string& obj, const std::string& name) const;

 private:
  H5File() = default;
  int64_t id_ = -1;  // hid_t
  std::string label_;
  std::vector<uint8_t> image_;
};

}  // namespace recur::convert
