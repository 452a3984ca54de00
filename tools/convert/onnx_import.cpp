// ONNX -> ModelSpec. Walks the graph in order, following the "chain" that starts at the graph
// input x: LSTM/GRU/RNN nodes (all attributes, optional B, sequence_lens, initial_h/c, P), the
// glue exporters put around them (Transpose, Squeeze, Reshape (T,B,D,H)->(T,B,D*H), Identity,
// Cast, Gather/Slice of the last step, Concat/Gather of final states) and a dense head (Gemm,
// or MatMul + Add; optional Softmax). Axes of every chain value are tracked by name
// (T time, B batch, D directions, F features), so a transpose in the wrong place is an error,
// not a silently different model. Nodes off the chain (shape subgraphs for initial states,
// constants) are only looked at where they reach the chain: an initial state must be a graph
// input or provably zero. Gates: ONNX i,o,f,c -> canonical i,f,g,o; GRU z,r,h = canonical;
// B = [Wb, Rb]; peepholes i,o,f -> i,f,o.
#include <onnx/onnx_pb.h>

#include <climits>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include <stdlib.h>

#include "tools/convert/convert.hpp"
#include "tools/convert/source_reference.hpp"
#include "tools/convert/util.hpp"

namespace recur::convert {
namespace {

// A tensor read from the file (initializer or Constant), values widened to double.
struct Const {
  std::vector<int64_t> dims;
  std::vector<double> v;
  int32_t type = 0;
};

// A value on the chain from x to the output.
struct Chain {
  enum Kind { seq, state, states } kind = seq;
  std::vector<char> axes;    // seq: letters over p q (x's unresolved axes) T B D F
  int64_t width = 0;         // size of the F axis
  int64_t dirs = 1;          // size of the D axis
  bool t_is_one = false;     // T was sliced to its last step but not removed yet
  bool last = false;         // T was removed: only the last step remains
  int layer = -1;            // seq: the layer that produced it (-1: x); state: its layer
  bool is_c = false;         // state: Y_c rather than Y_h
  std::vector<Chain> parts;  // states: Concat of states along axis 0
};

const std::set<std::string> kRnnAttrs = {"activation_alpha", "activation_beta", "activations", "clip",
                                         "direction", "hidden_size", "input_forget", "layout",
                                         "linear_before_reset"};

std::string canonical_activation(const std::string& name) {
  static const char* known[] = {"Sigmoid", "Tanh", "Relu", "HardSigmoid", "LeakyRelu", "ThresholdedRelu",
                                "ScaledTanh", "Affine", "Elu", "Softsign", "Softplus"};
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* k : known) {
    std::string kl;
    for (const char* p = k; *p; ++p) kl += static_cast<char>(std::tolower(static_cast<unsigned char>(*p)));
    if (kl == lower) return k;
  }
  return "";
}
bool uses_alpha(const std::string& n) {
  return n == "HardSigmoid" || n == "LeakyRelu" || n == "ThresholdedRelu" || n == "ScaledTanh" || n == "Affine" ||
         n == "Elu";
}
bool uses_beta(const std::string& n) { return n == "HardSigmoid" || n == "ScaledTanh" || n == "Affine"; }

// Constants hold doubles; an index, axis or size must be an integer that an int64 holds.
bool exact_int64(double v, int64_t& out) {
  if (!(v >= -9.0e18 && v <= 9.0e18) || v != static_cast<double>(static_cast<int64_t>(v))) return false;
  out = static_cast<int64_t>(v);
  return true;
}

// Inputs an op on the model's path reads by position (beyond the chained one).
int min_inputs(const std::string& op) {
  if (op == "Gather" || op == "MatMul" || op == "Gemm" || op == "Reshape" || op == "Add") return 2;
  return 1;
}

class OnnxImporter {
 public:
  OnnxImporter(std::string path, const ConvertOptions& options) : path_(std::move(path)), options_(options) {}

  Result<Conversion> run() {
    auto bytes = read_file_bytes(path_, (2ull << 30) - 1);  // protobuf's limit
    if (!bytes.ok()) return bytes.status();
    if (!model_.ParseFromArray(bytes->data(), static_cast<int>(bytes->size())))
      return fail(Errc::bad_metadata, cat(path_, ": not a valid ONNX protobuf (parse failed)"));
    bytes->clear();
    bytes->shrink_to_fit();
    for (const auto& op : model_.opset_import())
      if (op.domain().empty() || op.domain() == "ai.onnx") opset_ = op.version();
    const auto& g = model_.graph();
    for (const auto& t : g.initializer()) init_[t.name()] = &t;
    for (const auto& n : g.node())
      if (n.op_type() == "Constant")
        for (const auto& o : n.output()) constant_[o] = &n;
    for (const auto& n : g.node())
      for (const auto& o : n.output()) producer_[o] = &n;
    // x: the first graph input that is not an initializer.
    for (const auto& in : g.input()) {
      if (init_.count(in.name())) continue;
      if (x_name_.empty()) {
        x_name_ = in.name();
      } else {
        graph_inputs_.insert(in.name());
      }
    }
    if (x_name_.empty()) return fail(Errc::invalid_model, cat(path_, ": graph has no input"));
    Chain x;
    x.axes = {'p', 'q', 'F'};
    x.width = input_width(g);
    chain_[x_name_] = x;

    for (const auto& n : g.node()) {
      Status s = visit(n);
      if (!s.ok()) return s.with_context(path_);
    }
    RECUR_TRY(finish_outputs().with_context(path_));
    if (conv_.spec.layers.empty()) return fail(Errc::invalid_model, cat(path_, ": no LSTM, GRU or RNN node on the path from '", x_name_, "' to the output"));
    RECUR_TRY(finish_spec(conv_.spec, path_, options_.name).with_context(path_));
    conv_.format = SourceFormat::onnx;
    for (size_t i = 0; i < conv_.spec.layers.size(); ++i)
      conv_.layers.push_back(describe_layer(conv_.spec.layers[i], i));
    if (conv_.spec.head) conv_.layers.push_back(describe_head(*conv_.spec.head));
    NativeModel native = native_;
    conv_.reference = [native](const std::vector<double>& xv, int64_t T, int64_t B) {
      return evaluate_native(native, xv, T, B);
    };
    return std::move(conv_);
  }

 private:
  std::string path_;
  const ConvertOptions& options_;
  onnx::ModelProto model_;
  int64_t opset_ = 0;
  std::map<std::string, const onnx::TensorProto*> init_;
  std::map<std::string, const onnx::NodeProto*> constant_, producer_;
  std::string x_name_;
  std::set<std::string> graph_inputs_;
  std::map<std::string, Chain> chain_;
  bool resolved_ = false;
  bool batch_first_ = false;
  Conversion conv_;
  NativeModel native_;
  bool head_started_ = false, head_has_bias_ = false;
  std::optional<int64_t> static_T_, static_B_;

  int64_t input_width(const onnx::GraphProto& g) {
    for (const auto& in : g.input()) {
      if (in.name() != x_name_ || !in.type().has_tensor_type()) continue;
      const auto& shape = in.type().tensor_type().shape();
      if (shape.dim_size() == 3 && shape.dim(2).has_dim_value()) {
        if (shape.dim(0).has_dim_value() && shape.dim(1).has_dim_value()) {
          time_dims_[0] = shape.dim(0).dim_value();
          time_dims_[1] = shape.dim(1).dim_value();
        }
        return shape.dim(2).dim_value();
      }
    }
    return -1;  // unknown until the first recurrent node
  }
  int64_t time_dims_[2] = {-1, -1};

  // The node's name, or its first output when the exporter left the name empty.
  static std::string label(const onnx::NodeProto& n) {
    if (!n.name().empty() || n.output_size() == 0) return n.name();
    return "-> " + n.output(0);
  }
  Status node_error(const onnx::NodeProto& n, Errc code, const std::string& why) {
    return fail(code, cat("node '", label(n), "' (", n.op_type(), "): ", why));
  }

  // ---- tensors ----------------------------------------------------------------------------
  Result<std::vector<uint8_t>> external_bytes(const onnx::TensorProto& t, uint64_t want) {
    std::string location;
    uint64_t offset = 0, length = 0;
    bool has_length = false;
    for (const auto& kv : t.external_data()) {
      try {
        if (kv.key() == "location") location = kv.value();
        else if (kv.key() == "offset") offset = std::stoull(kv.value());
        else if (kv.key() == "length") length = std::stoull(kv.value()), has_length = true;
      } catch (...) {
        return fail(Errc::bad_tensor, cat("tensor '", t.name(), "': external_data ", kv.key(), " is not a number"));
      }
    }
    if (location.empty()) return fail(Errc::bad_tensor, cat("tensor '", t.name(), "': external data without a location"));
    if (location[0] == '/' || location.find('\\') != std::string::npos)
      return fail(Errc::bad_tensor, cat("tensor '", t.name(), "': external data path '", location,
                                        "' is absolute; only files inside the model's directory are read"));
    for (size_t start = 0; start <= location.size();) {
      size_t end = location.find('/', start);
      if (end == std::string::npos) end = location.size();
      if (location.compare(start, end - start, "..") == 0)
        return fail(Errc::bad_tensor, cat("tensor '", t.name(), "': external data path '", location,
                                          "' leaves the model's directory"));
      start = end + 1;
    }
    std::string dir = parent_dir(path_);
    char dir_real[PATH_MAX], file_real[PATH_MAX];
    std::string file = dir + "/" + location;
    if (!realpath(dir.c_str(), dir_real) || !realpath(file.c_str(), file_real))
      return fail(Errc::io, cat("tensor '", t.name(), "': cannot open external data '", location, "'"));
    std::string d = dir_real, f = file_real;
    if (f.compare(0, d.size() + 1, d + "/") != 0)
      return fail(Errc::bad_tensor, cat("tensor '", t.name(), "': external data '", location,
                                        "' resolves outside the model's directory"));
    auto all = read_file_bytes(f);
    if (!all.ok()) return all.status();
    if (!has_length) length = want;
    if (length != want || offset > all->size() || length > all->size() - offset)
      return fail(Errc::bad_tensor, cat("tensor '", t.name(), "': external data range [", offset, ", +", length,
                                        ") does not fit '", location, "' (", all->size(), " bytes) or the shape"));
    return std::vector<uint8_t>(all->begin() + static_cast<long>(offset), all->begin() + static_cast<long>(offset + length));
  }

  Result<Const> read_tensor(const onnx::TensorProto& t) {
    Const c;
    c.type = t.data_type();
    for (auto d : t.dims()) c.dims.push_back(d);
    int64_t numel = 0;
    if (!checked_numel(c.dims, numel))
      return fail(Errc::bad_tensor, cat("tensor '", t.name(), "' has an invalid shape ", shape_str(c.dims)));
    int elem = 0;
    switch (c.type) {
      case onnx::TensorProto::FLOAT: elem = 4; break;
      case onnx::TensorProto::DOUBLE: elem = 8; break;
      case onnx::TensorProto::INT64: elem = 8; break;
      case onnx::TensorProto::INT32: elem = 4; break;
      case onnx::TensorProto::FLOAT16: elem = 2; break;
      default:
        return fail(Errc::bad_tensor, cat("tensor '", t.name(), "' has data type ", c.type,
                                          " (supported: float, double, float16, int32, int64)"));
    }
    int64_t nbytes = 0;
    if (!checked_mul(numel, elem, nbytes)) return fail(Errc::bad_tensor, cat("tensor '", t.name(), "' is too large"));
    // The bytes must be there before anything is allocated for them.
    std::vector<uint8_t> ext;
    const uint8_t* raw = nullptr;
    if (t.data_location() == onnx::TensorProto::EXTERNAL) {
      auto e = external_bytes(t, static_cast<uint64_t>(nbytes));
      if (!e.ok()) return e.status();
      ext = std::move(*e);
      raw = ext.data();
    } else if (t.has_raw_data()) {
      if (static_cast<int64_t>(t.raw_data().size()) != nbytes)
        return fail(Errc::bad_tensor, cat("tensor '", t.name(), "' holds ", t.raw_data().size(), " bytes, its shape ",
                                          shape_str(c.dims), " needs ", nbytes));
      raw = reinterpret_cast<const uint8_t*>(t.raw_data().data());
    }
    if (raw) {
      c.v.resize(static_cast<size_t>(numel));
      for (int64_t k = 0; k < numel; ++k) {
        const uint8_t* p = raw + k * elem;
        switch (c.type) {
          case onnx::TensorProto::FLOAT: { float f; std::memcpy(&f, p, 4); c.v[k] = f; break; }
          case onnx::TensorProto::DOUBLE: { double f; std::memcpy(&f, p, 8); c.v[k] = f; break; }
          case onnx::TensorProto::INT64: { int64_t f; std::memcpy(&f, p, 8); c.v[k] = double(f); break; }
          case onnx::TensorProto::INT32: { int32_t f; std::memcpy(&f, p, 4); c.v[k] = f; break; }
          default: {
            uint16_t h = static_cast<uint16_t>(p[0] | (p[1] << 8));
            int e = (h >> 10) & 31, m = h & 1023;
            double v = e == 0 ? std::ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : std::ldexp(m | 1024, e - 25);
            c.v[k] = (h >> 15) ? -v : v;
          }
        }
      }
      return c;
    }
    auto take = [&](const auto& field) -> Status {
      if (static_cast<int64_t>(field.size()) != numel)
        return fail(Errc::bad_tensor, cat("tensor '", t.name(), "' holds ", field.size(), " values, its shape ",
                                          shape_str(c.dims), " needs ", numel));
      c.v.resize(static_cast<size_t>(numel));
      for (int64_t k = 0; k < numel; ++k) c.v[k] = double(field[static_cast<int>(k)]);
      return Status::Ok();
    };
    switch (c.type) {
      case onnx::TensorProto::FLOAT: RECUR_TRY(take(t.float_data())); break;
      case onnx::TensorProto::DOUBLE: RECUR_TRY(take(t.double_data())); break;
      case onnx::TensorProto::INT64: RECUR_TRY(take(t.int64_data())); break;
      case onnx::TensorProto::INT32: RECUR_TRY(take(t.int32_data())); break;
      default: return fail(Errc::bad_tensor, cat("tensor '", t.name(), "': float16 without raw_data"));
    }
    return c;
  }

  bool is_const(const std::string& name) const { return init_.count(name) || constant_.count(name); }

  Result<Const> get_const(const std::string& name, const std::string& what) {
    if (auto it = init_.find(name); it != init_.end()) return read_tensor(*it->second);
    if (auto it = constant_.find(name); it != constant_.end()) {
      for (const auto& a : it->second->attribute()) {
        if (a.name() == "value" && a.has_t()) return read_tensor(a.t());
        Const c;
        if (a.name() == "value_float") return Const{{}, {a.f()}, onnx::TensorProto::FLOAT};
        if (a.name() == "value_int") return Const{{}, {double(a.i())}, onnx::TensorProto::INT64};
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

  static Tensor to_tensor(const Const& c) {
    Tensor t;
    t.shape = c.dims;
    t.data.assign(c.v.begin(), c.v.end());
    return t;
  }

  // ---- attributes -------------------------------------------------------------------------
  static const onnx::AttributeProto* attr(const onnx::NodeProto& n, const std::string& name) {
    for (const auto& a : n.attribute())
      if (a.name() == name) return &a;
    return nullptr;
  }
  static int64_t attr_i(const onnx::NodeProto& n, const std::string& name, int64_t dflt) {
    const auto* a = attr(n, name);
    return a ? a->i() : dflt;
  }

  // Initial state: absent/empty, a graph input (caller passes h0/c0), or provably all zero.
  Status check_initial_state(const onnx::NodeProto& n, int index, const char* what) {
    if (n.input_size() <= index || n.input(index).empty()) return Status::Ok();
    const std::string& name = n.input(index);
    if (graph_inputs_.count(name)) {
      conv_.notes.push_back(cat(what, " of node '", label(n), "' is the graph input '", name,
                                "': pass it to run() as h0/c0 (zeros when omitted)"));
      return Status::Ok();
    }
    if (provably_zero(name, 0)) return Status::Ok();
    return node_error(n, Errc::unsupported,
                      cat(what, " '", name, "' is neither a graph input nor provably zero; a recur model starts "
                                "from zeros or from a state the caller passes"));
  }
  bool provably_zero(const std::string& name, int depth) {
    if (depth > 32) return false;
    if (init_.count(name) || constant_.count(name)) {
      auto c = get_const(name, "state");
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
      const auto* a = attr(p, "value");
      if (!a) return true;  // default value 0
      auto c = read_tensor(a->t());
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

  // ---- the walk ---------------------------------------------------------------------------
  Chain* chain_input(const onnx::NodeProto& n, int* which = nullptr) {
    for (int k = 0; k < n.input_size(); ++k) {
      auto it = chain_.find(n.input(k));
      if (it != chain_.end()) {
        if (which) *which = k;
        return &it->second;
      }
    }
    return nullptr;
  }

  static int axis_of(const Chain& c, char letter) {
    for (size_t k = 0; k < c.axes.size(); ++k)
      if (c.axes[k] == letter) return static_cast<int>(k);
    return -1;
  }
  char resolve(char a) const {
    if (!resolved_) return a;
    if (a == 'p') return batch_first_ ? 'B' : 'T';
    if (a == 'q') return batch_first_ ? 'T' : 'B';
    return a;
  }
  void resolve_all() {
    for (auto& [name, c] : chain_)
      for (char& a : c.axes) a = resolve(a);
  }

  Result<std::vector<int64_t>> int_list(const onnx::NodeProto& n, int input, const std::string& attr_name) {
    std::vector<int64_t> out;
    if (n.input_size() > input && !n.input(input).empty()) {
      if (!is_const(n.input(input)))
        return node_error(n, Errc::unsupported, cat("input ", input, " '", n.input(input),
                                                    "' is computed by the graph; recur needs it to be a constant"));
      auto c = get_const(n.input(input), cat("input ", input));
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
    if (const auto* a = attr(n, attr_name))
      for (auto v : a->ints()) out.push_back(v);
    return out;
  }

  Status visit(const onnx::NodeProto& n) {
    const std::string& op = n.op_type();
    if (!n.domain().empty() && n.domain() != "ai.onnx")
      return node_error(n, Errc::unsupported, cat("operator domain '", n.domain(), "' is not supported"));
    if (op == "LSTM" || op == "GRU" || op == "RNN") return recurrent(n);
    int which = -1;
    Chain* in = chain_input(n, &which);
    if (!in) return Status::Ok();  // off the chain: shape subgraphs, constants
    if (n.output_size() < 1 || n.input_size() < min_inputs(op))
      return node_error(n, Errc::invalid_model, cat(op, " has ", n.input_size(), " inputs and ", n.output_size(),
                                                    " outputs; it needs at least ", min_inputs(op), " and 1"));
    Chain c = *in;
    auto out = [&](Chain v) {
      chain_[n.output(0)] = std::move(v);
      return Status::Ok();
    };
    if (op == "Shape" || op == "Size") return Status::Ok();  // reads dims only; leaves the chain
    if (op == "Identity" || op == "Dropout") return out(c);
    if (op == "Cast") {
      int64_t to = attr_i(n, "to", 0);
      if (to != onnx::TensorProto::FLOAT && to != onnx::TensorProto::DOUBLE)
        return node_error(n, Errc::unsupported, cat("Cast to data type ", to, " on the model's path"));
      return out(c);
    }
    if (c.kind != Chain::seq) return state_op(n, c);
    if (op == "Transpose") {
      auto perm = int_list(n, 99, "perm");
      if (!perm.ok()) return perm.status();
      std::vector<int64_t> p = *perm;
      if (p.empty())
        for (size_t k = c.axes.size(); k-- > 0;) p.push_back(static_cast<int64_t>(k));
      if (p.size() != c.axes.size()) return node_error(n, Errc::invalid_model, "perm rank differs from the input's");
      std::vector<char> axes;
      std::set<int64_t> seen;
      for (int64_t k : p) {
        if (k < 0 || k >= static_cast<int64_t>(c.axes.size()) || !seen.insert(k).second)
          return node_error(n, Errc::invalid_model, "perm is not a permutation");
        axes.push_back(c.axes[static_cast<size_t>(k)]);
      }
      c.axes = axes;
      return out(c);
    }
    if (op == "Squeeze") {
      auto axes = int_list(n, 1, "axes");
      if (!axes.ok()) return axes.status();
      std::vector<int64_t> ax = *axes;
      if (ax.empty()) {
        if (axis_of(c, 'D') >= 0 && c.dirs == 1) ax.push_back(axis_of(c, 'D'));
        if (c.t_is_one) ax.push_back(axis_of(c, 'T'));
      }
      std::vector<bool> drop(c.axes.size(), false);
      for (int64_t a : ax) {
        if (a < 0) a += static_cast<int64_t>(c.axes.size());
        if (a < 0 || a >= static_cast<int64_t>(c.axes.size())) return node_error(n, Errc::invalid_model, "axis out of range");
        char l = c.axes[static_cast<size_t>(a)];
        if (l == 'D' && c.dirs == 1) {
        } else if (l == 'T' && c.t_is_one) {
          c.last = true;
        } else {
          return node_error(n, Errc::unsupported, cat("squeezes axis ", a, " ('", std::string(1, l),
                                                      "'), which is not of size 1 in general"));
        }
        drop[static_cast<size_t>(a)] = true;
      }
      std::vector<char> keep;
      for (size_t k = 0; k < c.axes.size(); ++k)
        if (!drop[k]) keep.push_back(c.axes[k]);
      c.axes = keep;
      if (c.last) c.t_is_one = false;
      return out(c);
    }
    if (op == "Reshape") {
      auto shape = int_list(n, 1, "shape");
      if (!shape.ok()) return shape.status();
      const auto& s = *shape;
      int dpos = axis_of(c, 'D');
      size_t r = c.axes.size();
      // (.., .., D, F) -> (.., .., D*F) with target [0|n, 0|n, -1|D*F]
      if (s.size() == r - 1 && dpos == static_cast<int>(r) - 2 && c.axes[r - 1] == 'F' &&
          (s.back() == -1 || s.back() == c.dirs * c.width) && keeps_leading(s, c)) {
        c.axes.erase(c.axes.begin() + dpos);
        c.width *= c.dirs;
        c.dirs = 1;
        return out(c);
      }
      // no-op reshape
      if (s.size() == r && c.axes[r - 1] == 'F' && (s.back() == -1 || s.back() == c.width) && keeps_leading(s, c))
        return out(c);
      return node_error(n, Errc::unsupported, cat("reshape of a value with axes ", axes_str(c), " to ", shape_str(s),
                                                  " is not one recur can follow"));
    }
    if (op == "Gather") {
      int64_t axis = attr_i(n, "axis", 0);
      if (axis < 0) axis += static_cast<int64_t>(c.axes.size());
      if (which != 0) return node_error(n, Errc::unsupported, "the model's values are used as gather indices");
      auto idx = get_const(n.input(1), "indices");
      if (!idx.ok()) return node_error(n, idx.status().code(), idx.status().message());
      if (axis < 0 || axis >= static_cast<int64_t>(c.axes.size()) || c.axes[static_cast<size_t>(axis)] != 'T' ||
          !idx->dims.empty() || idx->v.size() != 1)
        return node_error(n, Errc::unsupported, "only a scalar Gather of the last time step is supported");
      int64_t i = 0;
      if (!exact_int64(idx->v[0], i)) return node_error(n, Errc::invalid_model, "Gather index is not an integer");
      if (i != -1 && !(static_T_ && i == *static_T_ - 1))
        return node_error(n, Errc::unsupported, cat("gathers time step ", i, "; only the last step (-1) is supported"));
      c.axes.erase(c.axes.begin() + axis);
      c.last = true;
      return out(c);
    }
    if (op == "Slice") {
      auto starts = int_list(n, 1, "starts");
      auto ends = int_list(n, 2, "ends");
      auto axes = int_list(n, 3, "axes");
      auto steps = int_list(n, 4, "steps");
      if (!starts.ok()) return starts.status();
      if (!ends.ok()) return ends.status();
      if (!axes.ok()) return axes.status();
      if (!steps.ok()) return steps.status();
      if (starts->size() != 1 || ends->size() != 1 || axes->size() > 1 || steps->size() > 1)
        return node_error(n, Errc::unsupported, "only a one-axis slice of the last time step is supported");
      int64_t axis = axes->empty() ? 0 : (*axes)[0];
      if (axis < 0) axis += static_cast<int64_t>(c.axes.size());
      if (axis < 0 || axis >= static_cast<int64_t>(c.axes.size()) || c.axes[static_cast<size_t>(axis)] != 'T' ||
          (*starts)[0] != -1 || (*ends)[0] < INT_MAX || (!steps->empty() && (*steps)[0] != 1))
        return node_error(n, Errc::unsupported, "only Slice(starts=-1, ends=max) over the time axis is supported");
      c.t_is_one = true;
      return out(c);
    }
    if (op == "MatMul") {
      if (which != 0 || !is_const(n.input(1)))
        return node_error(n, Errc::unsupported, "MatMul must multiply the model's output by a constant matrix");
      auto W = get_const(n.input(1), "weight");
      if (!W.ok()) return node_error(n, W.status().code(), W.status().message());
      if (W->dims.size() != 2 || W->dims[0] != c.width)
        return node_error(n, Errc::invalid_model, cat("weight has shape ", shape_str(W->dims), ", expected (", c.width, ", out)"));
      RECUR_TRY(start_head(n, c, transpose2d(to_tensor(*W))));
      c.width = W->dims[1];
      return out(c);
    }
    if (op == "Gemm") {
      if (which != 0 || !is_const(n.input(1)))
        return node_error(n, Errc::unsupported, "Gemm must multiply the model's output by a constant matrix");
      if (c.axes.size() != 2) return node_error(n, Errc::unsupported, cat("Gemm on a value with axes ", axes_str(c)));
      if (attr_i(n, "transA", 0) != 0) return node_error(n, Errc::unsupported, "transA=1");
      for (const auto& a : n.attribute())
        if (a.name() != "alpha" && a.name() != "beta" && a.name() != "transA" && a.name() != "transB")
          return node_error(n, Errc::unsupported, cat("attribute '", a.name(), "' is not known"));
      const auto* alpha_a = attr(n, "alpha");
      const auto* beta_a = attr(n, "beta");
      double alpha = alpha_a ? alpha_a->f() : 1.0, beta = beta_a ? beta_a->f() : 1.0;
      auto W = get_const(n.input(1), "weight");
      if (!W.ok()) return node_error(n, W.status().code(), W.status().message());
      if (W->dims.size() != 2) return node_error(n, Errc::invalid_model, "weight is not 2-D");
      Tensor w = to_tensor(*W);
      if (attr_i(n, "transB", 0) == 0) w = transpose2d(w);
      if (w.shape[1] != c.width)
        return node_error(n, Errc::invalid_model, cat("weight has shape ", shape_str(W->dims), " but the input width is ", c.width));
      for (float& v : w.data) v = static_cast<float>(v * alpha);
      RECUR_TRY(start_head(n, c, w));
      c.width = w.shape[0];
      if (n.input_size() > 2 && !n.input(2).empty()) RECUR_TRY(add_bias(n, n.input(2), beta, c.width));
      return out(c);
    }
    if (op == "Add") {
      if (!head_started_ || head_has_bias_)
        return node_error(n, Errc::unsupported, head_started_ ? "a second bias" : "Add on the recurrent output (no head)");
      const std::string& other = n.input(which == 0 ? 1 : 0);
      RECUR_TRY(add_bias(n, other, 1.0, c.width));
      return out(c);
    }
    if (op == "Softmax") {
      int64_t rank = static_cast<int64_t>(c.axes.size());
      int64_t axis = attr_i(n, "axis", opset_ >= 13 ? -1 : 1);
      if (axis < 0) axis += rank;
      if (axis != rank - 1)
        return node_error(n, Errc::unsupported, cat("softmax over axis ", axis, " of ", axes_str(c),
                                                    "; only the feature axis is supported"));
      if (!head_started_) RECUR_TRY(identity_head(n, c));
      if (conv_.spec.head->softmax) return node_error(n, Errc::unsupported, "a second softmax");
      conv_.spec.head->softmax = true;
      native_.head->softmax = true;
      return out(c);
    }
    return node_error(n, Errc::unsupported, cat("operator ", op, " on the model's path (input '", n.input(which),
                                                "', axes ", axes_str(c), ") is not something recur can run"));
  }

  bool keeps_leading(const std::vector<int64_t>& s, const Chain& c) const {
    // Leading entries must keep the dims (0), since T and B are dynamic.
    for (size_t k = 0; k + 1 < s.size(); ++k) {
      char l = c.axes[k];
      if (l == 'D' || l == 'F') return false;
      if (s[k] != 0) {
        int64_t known = -1;
        if (l == 'T' && static_T_) known = *static_T_;
        if (l == 'B' && static_B_) known = *static_B_;
        if (s[k] != known || known < 0) return false;
      }
    }
    return true;
  }

  static std::string axes_str(const Chain& c) {
    std::string s = "(";
    for (size_t k = 0; k < c.axes.size(); ++k) {
      char l = c.axes[k] == 'p' || c.axes[k] == 'q' ? '?' : c.axes[k];
      s += (k ? ", " : "") + std::string(1, l);
    }
    return s + ")";
  }

  Status start_head(const onnx::NodeProto& n, const Chain& c, Tensor W) {
    if (head_started_) return node_error(n, Errc::unsupported, "a second dense layer after the head");
    if (c.layer < 0 || c.layer + 1 != static_cast<int>(conv_.spec.layers.size()))
      return node_error(n, Errc::unsupported, "the dense head must follow the last recurrent layer");
    if (axis_of(c, 'D') >= 0) return node_error(n, Errc::unsupported, cat("dense layer over axes ", axes_str(c)));
    DenseHead h;
    h.input_size = W.shape[1];
    h.output_size = W.shape[0];
    h.W = W;
    h.b = make_tensor({h.output_size});
    conv_.spec.head = h;
    native_.head = NativeHead{W, false, Tensor{}, false, false};
    head_started_ = true;
    return Status::Ok();
  }
  Status identity_head(const onnx::NodeProto& n, const Chain& c) {
    Tensor W = make_tensor({c.width, c.width});
    for (int64_t k = 0; k < c.width; ++k) W.data[k * c.width + k] = 1.0f;
    RECUR_TRY(start_head(n, c, W));
    conv_.notes.push_back("identity dense head added to express the graph's softmax / last step");
    return Status::Ok();
  }
  Status add_bias(const onnx::NodeProto& n, const std::string& name, double beta, int64_t width) {
    auto b = get_const(name, "bias");
    if (!b.ok()) return node_error(n, b.status().code(), b.status().message());
    int64_t numel = static_cast<int64_t>(b->v.size());
    for (size_t k = 0; k + 1 < b->dims.size(); ++k)
      if (b->dims[k] != 1) numel = -1;
    if (numel != width && numel != 1)
      return node_error(n, Errc::invalid_model, cat("bias has shape ", shape_str(b->dims), ", expected (", width, ")"));
    Tensor bias = make_tensor({width});
    for (int64_t k = 0; k < width; ++k) bias.data[k] = static_cast<float>(beta * b->v[numel == 1 ? 0 : k]);
    conv_.spec.head->b = bias;
    native_.head->b = bias;
    head_has_bias_ = true;
    return Status::Ok();
  }

  // Ops on final states (Y_h / Y_c): Concat along layers, Gather/Squeeze of one row. The last
  // layer's forward Y_h equals its output at the last step, which is all recur can return.
  Status state_op(const onnx::NodeProto& n, Chain c) {
    const std::string& op = n.op_type();
    auto out = [&](Chain v) {
      chain_[n.output(0)] = std::move(v);
      return Status::Ok();
    };
    if (op == "Concat") {
      if (attr_i(n, "axis", 0) != 0) return node_error(n, Errc::unsupported, "concat of states along an axis other than 0");
      Chain s;
      s.kind = Chain::states;
      for (const auto& in : n.input()) {
        auto it = chain_.find(in);
        if (it == chain_.end() || it->second.kind == Chain::seq)
          return node_error(n, Errc::unsupported, "concat of a final state with something else");
        if (it->second.kind == Chain::states)
          for (auto& p : it->second.parts) s.parts.push_back(p);
        else
          s.parts.push_back(it->second);
      }
      return out(s);
    }
    std::vector<Chain> rows = c.kind == Chain::states ? c.parts : std::vector<Chain>{c};
    int64_t nrows = 0;
    for (const auto& r : rows) nrows += r.dirs;
    int64_t row = -1;
    if (op == "Gather") {
      if (attr_i(n, "axis", 0) != 0) return node_error(n, Errc::unsupported, "gather from a state along an axis other than 0");
      auto idx = get_const(n.input(1), "indices");
      if (!idx.ok()) return node_error(n, idx.status().code(), idx.status().message());
      if (!idx->dims.empty() || idx->v.size() != 1) return node_error(n, Errc::unsupported, "non-scalar gather from a state");
      if (!exact_int64(idx->v[0], row)) return node_error(n, Errc::invalid_model, "Gather index is not an integer");
      if (row < 0) row += nrows;
    } else if (op == "Squeeze") {
      auto axes = int_list(n, 1, "axes");
      if (!axes.ok()) return axes.status();
      if (nrows != 1 || !(axes->empty() || (axes->size() == 1 && (*axes)[0] == 0)))
        return node_error(n, Errc::unsupported, "squeeze of a state with more than one row");
      row = 0;
    } else {
      return node_error(n, Errc::unsupported, cat("operator ", op, " on a final state (Y_h/Y_c) is not supported"));
    }
    if (row != nrows - 1)
      return node_error(n, Errc::unsupported, "only the last layer's final hidden state can feed the output");
    const Chain& last = rows.back();
    const RecurrentLayer& L = conv_.spec.layers[static_cast<size_t>(last.layer)];
    if (last.is_c || last.layer + 1 != static_cast<int>(conv_.spec.layers.size()) || L.direction != Direction::forward)
      return node_error(n, Errc::unsupported, "only a forward layer's final h (= its output at the last step) can feed the output");
    Chain s;
    s.kind = Chain::seq;
    s.axes = {'B', 'F'};
    s.width = L.output_size();
    s.last = true;
    s.layer = last.layer;
    conv_.notes.push_back(cat("node '", label(n), "': the final hidden state is used as the output at the last step"));
    if (lengths_input_) conv_.notes.push_back("with sequence_lens, h_n and y[T-1] differ: pass no lengths to run()");
    return out(s);
  }
  bool lengths_input_ = false;

  Status recurrent(const onnx::NodeProto& n) {
    const std::string& op = n.op_type();
    CellType cell = op == "LSTM" ? CellType::lstm : op == "GRU" ? CellType::gru : CellType::rnn;
    const int G = gate_count(cell);
    for (const auto& a : n.attribute()) {
      if (!kRnnAttrs.count(a.name()) || (a.name() == "input_forget" && cell != CellType::lstm) ||
          (a.name() == "linear_before_reset" && cell != CellType::gru))
        return node_error(n, Errc::unsupported, cat("attribute '", a.name(), "' is not known for ", op));
    }
    if (n.input_size() < 3) return node_error(n, Errc::invalid_model, "needs inputs X, W, R");
    auto xit = chain_.find(n.input(0));
    if (xit == chain_.end())
      return node_error(n, Errc::unsupported, cat("input X '", n.input(0), "' does not come from the graph input '",
                                                  x_name_, "' through supported ops"));
    Chain xin = xit->second;
    if (xin.kind != Chain::seq || xin.axes.size() != 3 || xin.axes[2] != 'F' || xin.last || xin.t_is_one)
      return node_error(n, Errc::unsupported, cat("input X has axes ", axes_str(xin), "; expected (T, B, F)"));
    if (xin.layer + 1 != static_cast<int>(conv_.spec.layers.size()) || head_started_)
      return node_error(n, Errc::unsupported, "recurrent layers must form one chain (no branches, no layer after the head)");
    const int64_t layout = attr_i(n, "layout", 0);
    if (layout != 0 && layout != 1) return node_error(n, Errc::unsupported, cat("layout ", layout));
    // Resolve x's unknown axes at the first recurrent node.
    char want0 = layout == 0 ? 'T' : 'B', want1 = layout == 0 ? 'B' : 'T';
    if (!resolved_) {
      if (xin.axes[0] != 'p' && xin.axes[0] != 'q') return node_error(n, Errc::unsupported, "cannot tell time from batch");
      batch_first_ = (xin.axes[0] == 'p') == (want0 == 'B');
      resolved_ = true;
      resolve_all();
      xin = chain_[n.input(0)];
      conv_.spec.batch_first = native_.batch_first = batch_first_;
      int64_t t_static = time_dims_[batch_first_ ? 1 : 0], b_static = time_dims_[batch_first_ ? 0 : 1];
      if (t_static > 0) static_T_ = t_static;
      if (b_static > 0) static_B_ = b_static;
    }
    if (xin.axes[0] != want0 || xin.axes[1] != want1)
      return node_error(n, Errc::unsupported, cat("input X has axes ", axes_str(xin), " but layout ", layout, " expects (",
                                                  std::string(1, want0), ", ", std::string(1, want1), ", F)"));

    auto W = get_const(n.input(1), "W");
    if (!W.ok()) return node_error(n, W.status().code(), W.status().message());
    auto R = get_const(n.input(2), "R");
    if (!R.ok()) return node_error(n, R.status().code(), R.status().message());
    std::string dir_s = "forward";
    if (const auto* a = attr(n, "direction")) dir_s = a->s();
    Direction dir;
    if (dir_s == "forward") dir = Direction::forward;
    else if (dir_s == "reverse") dir = Direction::reverse;
    else if (dir_s == "bidirectional") dir = Direction::bidirectional;
    else return node_error(n, Errc::unsupported, cat("direction '", dir_s, "'"));
    const int64_t D = direction_count(dir);
    int64_t H = attr_i(n, "hidden_size", -1);
    if (R->dims.size() == 3 && H < 0) H = R->dims[2];
    if (H <= 0) return node_error(n, Errc::invalid_model, "hidden_size is missing or not positive");
    const int64_t GH = G * H;
    if (W->dims.size() != 3 || W->dims[0] != D || W->dims[1] != GH)
      return node_error(n, Errc::invalid_model, cat("W '", n.input(1), "' has shape ", shape_str(W->dims), ", expected (",
                                                    D, ", ", GH, ", input_size)"));
    const int64_t I = W->dims[2];
    if (xin.width >= 0 && xin.width != I)
      return node_error(n, Errc::invalid_model, cat("W '", n.input(1), "' has shape ", shape_str(W->dims),
                                                    " but the input has ", xin.width, " features"));
    if (R->dims != std::vector<int64_t>{D, GH, H})
      return node_error(n, Errc::invalid_model, cat("R '", n.input(2), "' has shape ", shape_str(R->dims), ", expected ",
                                                    shape_str({D, GH, H})));
    Const B{{D, 2 * GH}, std::vector<double>(static_cast<size_t>(D * 2 * GH), 0.0), 1};
    if (n.input_size() > 3 && !n.input(3).empty()) {
      auto b = get_const(n.input(3), "B");
      if (!b.ok()) return node_error(n, b.status().code(), b.status().message());
      if (b->dims != B.dims)
        return node_error(n, Errc::invalid_model, cat("B '", n.input(3), "' has shape ", shape_str(b->dims), ", expected ",
                                                      shape_str(B.dims)));
      B = *b;
    }
    if (n.input_size() > 4 && !n.input(4).empty()) {
      if (!graph_inputs_.count(n.input(4)))
        return node_error(n, Errc::unsupported, "sequence_lens must be a graph input (lengths are passed to run())");
      lengths_input_ = true;
      conv_.notes.push_back(cat("sequence_lens '", n.input(4), "' is a graph input: pass lengths to run()"));
    }
    RECUR_TRY(check_initial_state(n, 5, "initial_h"));
    if (cell == CellType::lstm) RECUR_TRY(check_initial_state(n, 6, "initial_c"));
    Const P;
    bool peep = false;
    if (cell == CellType::lstm && n.input_size() > 7 && !n.input(7).empty()) {
      auto p = get_const(n.input(7), "P");
      if (!p.ok()) return node_error(n, p.status().code(), p.status().message());
      if (p->dims != std::vector<int64_t>{D, 3 * H})
        return node_error(n, Errc::invalid_model, cat("P '", n.input(7), "' has shape ", shape_str(p->dims), ", expected ",
                                                      shape_str({D, 3 * H})));
      P = *p;
      peep = true;
    }

    RecurrentLayer layer;
    layer.cell = cell;
    layer.direction = dir;
    layer.input_size = I;
    layer.hidden_size = H;
    layer.peepholes = peep;
    if (const auto* a = attr(n, "clip")) {
      if (!(a->f() > 0) || !std::isfinite(a->f())) return node_error(n, Errc::unsupported, cat("clip ", a->f()));
      layer.clip = a->f();
    }
    layer.input_forget = attr_i(n, "input_forget", 0) != 0;
    int64_t lbr = attr_i(n, "linear_before_reset", 0);
    if (lbr != 0 && lbr != 1) return node_error(n, Errc::unsupported, cat("linear_before_reset ", lbr));
    layer.linear_before_reset = lbr == 1;
    if (const auto* a = attr(n, "activations")) {
      const int per = activation_count(cell);
      if (a->strings_size() != per * D)
        return node_error(n, Errc::unsupported, cat(a->strings_size(), " activations; ", op, " with ", D,
                                                    " direction(s) needs ", per * D));
      const auto* al = attr(n, "activation_alpha");
      const auto* be = attr(n, "activation_beta");
      // How activation_alpha/beta are "consumed in the order of activation functions" follows
      // onnxruntime, the de-facto reference: LSTM and GRU take the next value only for a
      // function that uses one; RNN indexes both lists by the function's position.
      const bool positional = cell == CellType::rnn;
      int ai = 0, bi = 0;
      for (int k = 0; k < a->strings_size(); ++k) {
        const std::string& s = a->strings(k);
        std::string name = canonical_activation(s);
        if (name.empty()) return node_error(n, Errc::unsupported, cat("activation '", s, "' is not known"));
        Activation act;
        activation_with_defaults(name, act);
        if (positional) {
          if (uses_alpha(name) && al && k < al->floats_size()) act.alpha = al->floats(k);
          if (uses_beta(name) && be && k < be->floats_size()) act.beta = be->floats(k);
        } else {
          if (uses_alpha(name) && al && ai < al->floats_size()) act.alpha = al->floats(ai++);
          if (uses_beta(name) && be && bi < be->floats_size()) act.beta = be->floats(bi++);
        }
        layer.activations.push_back(act);
      }
    } else if (attr(n, "activation_alpha") || attr(n, "activation_beta")) {
      return node_error(n, Errc::unsupported, "activation_alpha/beta without activations");
    }

    NativeLayer nl;
    nl.cell = cell;
    nl.gate_order = cell == CellType::lstm ? "iofg" : cell == CellType::gru ? "zrn" : "h";
    nl.peephole_order = "iof";
    nl.direction = dir;
    nl.input_size = I;
    nl.hidden_size = H;
    nl.activations = layer.activations;
    nl.clip = layer.clip;
    nl.input_forget = layer.input_forget;
    nl.linear_before_reset = layer.linear_before_reset;
    const std::string from = nl.gate_order;
    const std::string to = cell == CellType::lstm ? "ifgo" : cell == CellType::gru ? "zrn" : "h";
    Tensor Wt = to_tensor(*W), Rt = to_tensor(*R), Bt = to_tensor(B), Pt = peep ? to_tensor(P) : Tensor{};
    for (int64_t d = 0; d < D; ++d) {
      // W (D, GH, I) -> this direction's (GH, I); B (D, 2GH) -> Wb (GH), Rb (GH).
      Tensor Wd{{GH, I}, std::vector<float>(Wt.data.begin() + d * GH * I, Wt.data.begin() + (d + 1) * GH * I)};
      Tensor Rd{{GH, H}, std::vector<float>(Rt.data.begin() + d * GH * H, Rt.data.begin() + (d + 1) * GH * H)};
      Tensor Wb{{GH}, std::vector<float>(Bt.data.begin() + d * 2 * GH, Bt.data.begin() + d * 2 * GH + GH)};
      Tensor Rb{{GH}, std::vector<float>(Bt.data.begin() + d * 2 * GH + GH, Bt.data.begin() + (d + 1) * 2 * GH)};
      DirectionWeights dw;
      dw.W = reorder_gates(Wd, H, from, to);
      dw.R = reorder_gates(Rd, H, from, to);
      dw.Wb = reorder_gates(Wb, H, from, to);
      dw.Rb = reorder_gates(Rb, H, from, to);
      NativeDirection nd{Wd, Rd, Wb, Rb, {}, {}, {}, {}};
      if (peep) {
        Tensor Pd{{3 * H}, std::vector<float>(Pt.data.begin() + d * 3 * H, Pt.data.begin() + (d + 1) * 3 * H)};
        dw.P = reorder_gates(Pd, H, "iof", "ifo");
        nd.P = Pd;
      }
      layer.weights.push_back(dw);
      nl.dirs.push_back(nd);
    }
    const int index = static_cast<int>(conv_.spec.layers.size());
    conv_.spec.layers.push_back(layer);
    native_.layers.push_back(nl);
    if (options_.progress) options_.progress(cat("read ", op, " node '", label(n), "' (layer ", index, ")"));

    // Outputs: Y (T, D, B, H) or (B, T, D, H) with layout 1; Y_h, Y_c (D, B, H).
    if (n.output_size() > 0 && !n.output(0).empty()) {
      Chain y;
      y.axes = layout == 0 ? std::vector<char>{'T', 'D', 'B', 'F'} : std::vector<char>{'B', 'T', 'D', 'F'};
      y.width = H;
      y.dirs = D;
      y.layer = index;
      chain_[n.output(0)] = y;
    }
    for (int k = 1; k < n.output_size() && k < 3; ++k) {
      if (n.output(k).empty()) continue;
      Chain s;
      s.kind = Chain::state;
      s.dirs = D;
      s.layer = index;
      s.is_c = k == 2;
      s.width = H;
      if (layout == 1) s.axes = {'B', 'D', 'F'};
      chain_[n.output(k)] = s;
    }
    return Status::Ok();
  }

  Status finish_outputs() {
    const auto& g = model_.graph();
    if (g.output_size() == 0) return fail(Errc::invalid_model, "graph has no output");
    for (int k = 0; k < g.output_size(); ++k) {
      const std::string& name = g.output(k).name();
      auto it = chain_.find(name);
      if (it == chain_.end())
        return fail(Errc::unsupported, cat("graph output '", name, "' does not come from the recurrent layers"));
      const Chain& c = it->second;
      if (k > 0) {
        if (c.kind == Chain::seq)
          return fail(Errc::unsupported, cat("graph output '", name, "' is a second sequence output; recur returns one"));
        conv_.notes.push_back(cat("graph output '", name, "' (final ", c.is_c ? "c" : "h", " of layer ", c.layer,
                                  ") is returned by run() within c_n/h_n"));
        continue;
      }
      if (c.kind != Chain::seq) return fail(Errc::unsupported, cat("graph output '", name, "' is a final state, not the sequence output"));
      if (c.layer + 1 != static_cast<int>(conv_.spec.layers.size()))
        return fail(Errc::unsupported, cat("graph output '", name, "' does not come from the last recurrent layer"));
      if (c.t_is_one) return fail(Errc::unsupported, cat("graph output '", name, "' keeps a time axis of size 1"));
      std::vector<char> want;
      if (c.last) want = {'B', 'F'};
      else want = batch_first_ ? std::vector<char>{'B', 'T', 'F'} : std::vector<char>{'T', 'B', 'F'};
      if (c.axes != want) {
        bool tdbf = !c.last && c.axes.size() == 4 && axis_of(c, 'D') >= 0;
        std::vector<char> rest;
        for (char a : c.axes)
          if (a != 'D') rest.push_back(a);
        if (!(tdbf && rest == want))
          return fail(Errc::unsupported, cat("graph output '", name, "' has axes ", axes_str(c), "; recur returns ",
                                             c.last ? "(B, F)" : batch_first_ ? "(B, T, F)" : "(T, B, F)",
                                             " with the same layout as its input"));
        conv_.notes.push_back(cat("graph output '", name, "' has axes ", axes_str(c), "; recur returns the same values as ",
                                  batch_first_ ? "(B, T, D*H)" : "(T, B, D*H)"));
      }
      if (c.last) {
        if (!head_started_) {
          Chain tmp = c;
          onnx::NodeProto none;
          RECUR_TRY(identity_head(none, tmp));
        }
        conv_.spec.head->last_step_only = true;
        native_.head->last_step = true;
      }
    }
    return Status::Ok();
  }
};

}  // namespace

Result<Conversion> convert_onnx(const std::string& path, const ConvertOptions& options) {
  return guarded(path, [&] {
    OnnxImporter importer(path, options);
    return importer.run();
  });
}

}  // namespace recur::convert
