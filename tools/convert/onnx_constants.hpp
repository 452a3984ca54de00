// The values an ONNX graph fixes before it runs: initializers and Constant nodes by name, the
// integer lists a node takes from them (axes, perm, shape), and whether a value is provably
// zero through the shape glue exporters put around initial states.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tools/convert/onnx_tensor.hpp"

namespace recur::convert {

// Constants hold doubles; an index, axis or size must be an integer that an int64 holds.
bool exact_int64(double v, int64_t& out);

class OnnxConstants {
 public:
  // `model_path`: where external data is looked up. The graph must outlive this.
  OnnxConstants(const onnx::GraphProto& g, std::string model_path);

  bool is_initializer(const std::string& name) const { return init_.count(name) > 0; }
  bool is_const(const std::string& name) const { return init_.count(name) || constant_.count(name); }
  // The value of an initializer or Constant; `what` names its role in the message.
  Result<OnnxConst> get(const std::string& name, const std::string& what) const;
  Result<OnnxConst> read(const onnx::TensorProto& t) const { return read_onnx_tensor(t, path_); }
  // Input `input` of `n` when present (it must be a constant), else attribute `attr_name`.
  Result<std::vector<int64_t>> int_list(const onnx::NodeProto& n, int input, const std::string& attr_name) const;
  bool provably_zero(const std::string& name, int depth = 0) const;

 private:
  std::string path_;
  std::map<std::string, const onnx::TensorProto*> init_;
  std::map<std::string, const onnx::NodeProto*> constant_, producer_;
};

}  // namespace recur::convert
