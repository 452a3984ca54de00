// Initializers, Constant nodes and the little constant evaluation the ONNX walk needs.
#include "tools/convert/onnx_constants.hpp"

#include "tools/convert/onnx_node.hpp"

namespace recur::convert {

bool exact_int64(double v, int64_t& out) {
  if (!(v >= -9.0e18 && v <= 9.0e18) || v != static_cast<double>(static_cast<int64_t>(v))) return false;
  out = static_cast<int64_t>(v);
  return true;
}

OnnxConstants::OnnxConstants(const onnx::GraphProto& g, std::string model_path) : path_(std::move(model_path)) {
  for (const auto& t : g.initializer()) init_[t.name()] = &t;
  for (const auto& n : g.node())
    if (n.op_type() == "Constant")
      for (const auto& o : n.output()) constant_[o] = &n;
  for (const auto& n : g.node())
    for (const auto& o : n.output()) producer_[o] = &n;
}

Result<OnnxConst> OnnxConstants::get(const std::string& name, const std::string& what) const {
  if (auto it = init_.find(name); it != init_.end()) return read(*it->second);
  if (auto it = constant_.find(name); it != constant_.end()) {
    for (const auto& a : it->second->attribute()) {
      if (a.name() == "value" && a.has_t()) return read(a.t());
      OnnxConst c;
      if (a.name() == "value_float") return OnnxConst{{}, {a.f()}, onnx::TensorProto::FLOAT};
      if (a.name() == "value_int") return OnnxConst{{}, {double(a.i())}, onnx::TensorProto::INT64};
      if (a.name() == "value_floats") {
        for (float f : a.floats()) c.v.push_back(f);
        c.dims = {static_cast<int64_t>(c.v.size())};
        return c;
      }
      if (a.name() == "value_ints") {
        for (auto i : a.ints()) c.v.push_back(double(i));
        c.dims = {static_cast<int64_t>(c.v.size())};
        return c;
      }
    }
    return fail(Errc::unsupported, cat("Constant '", name, "' has no supported value attribute"));
  }
  return fail(Errc::invalid_model, cat(what, " '", name, "' is neither an initializer nor a Constant"));
}

Result<std::vector<int64_t>> OnnxConstants::int_list(const onnx::NodeProto& n, int input,
                                                     const std::string& attr_name) const {
  std::vector<int64_t> out;
  if (n.input_size() > input && !n.input(input).empty()) {
    if (!is_const(n.input(input)))
      return node_error(n, Errc::unsupported, cat("input ", input, " '", n.input(input),
                                                  "' is computed by the graph; recur needs it to be a constant"));
    auto c = get(n.input(input), cat("input ", input));
    if (!c.ok()) return node_error(n, c.status().code(), c.status().message());
    for (double v : c->v) {
      int64_t i = 0;
      if (!exact_int64(v, i))
        return node_error(n, Errc::invalid_model, cat("input ", input, " '", n.input(input),
                                                      "' holds ", v, ", not a usable integer"));
      out.push_back(i);
    }
    return out;
  }
  if (const auto* a = node_attr(n, attr_name))
    for (auto v : a->ints()) out.push_back(v);
  return out;
}

// Initial state: zero constants, ConstantOfShape(0), and shape glue over them.
bool OnnxConstants::provably_zero(const std::string& name, int depth) const {
  if (depth > 32) return false;
  if (init_.count(name) || constant_.count(name)) {
    auto c = get(name, "state");
    if (!c.ok()) return false;
    for (double v : c->v)
      if (v != 0.0) return false;
    return true;
  }
  auto it = producer_.find(name);
  if (it == producer_.end()) return false;
  const onnx::NodeProto& p = *it->second;
  const std::string& op = p.op_type();
  if (op == "ConstantOfShape") {
    const auto* a = node_attr(p, "value");
    if (!a) return true;  // default value 0
    auto c = read(a->t());
    return c.ok() && c->v.size() == 1 && c->v[0] == 0.0;
  }
  if (op == "Expand" || op == "Unsqueeze" || op == "Squeeze" || op == "Reshape" || op == "Identity" ||
      op == "Cast" || op == "Slice" || op == "Tile" || op == "Transpose" || op == "Gather")
    return p.input_size() > 0 && provably_zero(p.input(0), depth + 1);
  if (op == "Concat") {
    for (const auto& in : p.input())
      if (!provably_zero(in, depth + 1)) return false;
    return true;
  }
  return false;
}

}  // namespace recur::convert
