// Streaming variant of read_model, for Model::load: tensors a sink takes are handed to it in
// chunks of whole rows as they are read (each chunk hashed and checked finite first) instead of
// being kept in the returned spec, so the runtime packs its weights straight from the file with
// no full-size copy in between (formats/SPEC.md §8).
#pragma once

#include <string>

#include "recur/format.hpp"

namespace recur {

class TensorSink {
 public:
  virtual ~TensorSink() = default;
  // The metadata is parsed and validate_shapes(spec) passed; no tensor data is read yet. The
  // tensors of `spec` stay where they are until read_model returns. An error stops the load.
  virtual Status begin(const ModelSpec& spec) = 0;
  // Whether tensor `t` of that spec goes to rows() instead of into t.data.
  virtual bool takes(const Tensor& t) const = 0;
  // Rows [row, row + count) of a taken tensor, row-major: shape[1] floats per row (a 1-D tensor
  // has rows of one value). Every row arrives exactly once, in order. The file's checksum is
  // only known at the end: what a sink packed is garbage if read_model then fails.
  virtual void rows(const Tensor& t, int64_t row, int64_t count, const float* data) = 0;
};

// read_model with `sink`: on success the spec has every tensor's shape, and the data of those
// the sink did not take.
Result<ModelFile> read_model(const std::string& path, const ReadOptions& options, TensorSink& sink);

}  // namespace recur
