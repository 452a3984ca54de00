// What every part of the ONNX importer says about a node: its label in messages, the error
// naming it, and its attributes by name.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>

#include "tools/convert/util.hpp"

namespace recur::convert {

// The node's name, or its first output when the exporter left the name empty.
inline std::string node_label(const onnx::NodeProto& n) {
  if (!n.name().empty() || n.output_size() == 0) return n.name();
  return "-> " + n.output(0);
}

inline Status node_error(const onnx::NodeProto& n, Errc code, const std::string& why) {
  return fail(code, cat("node '", node_label(n), "' (", n.op_type(), "): ", why));
}

inline const onnx::AttributeProto* node_attr(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

inline int64_t node_attr_i(const onnx::NodeProto& n, const std::string& name, int64_t dflt) {
  const auto* a = node_attr(n, name);
  return a ? a->i() : dflt;
}

}  // namespace recur::convert
