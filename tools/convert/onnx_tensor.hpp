// ONNX TensorProto -> values: shape and data type checked, bytes from raw_data, the typed
// fields, or external data inside the model's directory, widened to double.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

#include "recur/spec.hpp"
#include "recur/status.hpp"

namespace recur::convert {

// A tensor read from the file (initializer or Constant), values widened to double.
struct OnnxConst {
  std::vector<int64_t> dims;
  std::vector<double> v;
  int32_t type = 0;
};

// `model_path` is the .onnx file: external data is looked up next to it.
Result<OnnxConst> read_onnx_tensor(const onnx::TensorProto& t, const std::string& model_path);

Tensor to_tensor(const OnnxConst& c);

}  // namespace recur::convert
