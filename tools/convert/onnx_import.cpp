// ONNX -> ModelSpec. Walks the graph in order, following the "chain" that starts at the graph
// input x: LSTM/GRU/RNN nodes (all attributes, optional B, sequence_lens, initial_h/c, P), the
// glue exporters put around them (Transpose, Squeeze, Reshape (T,B,D,H)->(T,B,D*H), Identity,
// Cast, Gather/Slice of the last step, Concat/Gather of final states) and a dense head (Gemm,
// or MatMul + Add; optional Softmax). Axes of every chain value are tracked by name
// (T time, B batch, D directions, F features), so a transpose in the wrong place is an error,
// not a silently different model. Nodes off the chain (shape subgraphs for initial states,
// constants) are only looked at where they reach the chain: an initial state must be a graph
// input or provably zero. Tensors: onnx_tensor.cpp; constants: onnx_constants.cpp; the
// recurrent nodes themselves: onnx_rnn.cpp.
#include <onnx/onnx_pb.h>

#include <climits>
#include <map>
#include <optional>
#include <set>

#include "tools/convert/convert.hpp"
#include "tools/convert/onnx_constants.hpp"
#include "tools/convert/onnx_node.hpp"
#include "tools/convert/onnx_rnn.hpp"
#include "tools/convert/source_reference.hpp"
#include "tools/convert/util.hpp"

namespace recur::convert {
namespace {

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

// LSTM/GRU/RNN took their present form in opset 7; above 30 (ONNX releases are at 22-25 today)
// an op could mean something recur has not been checked against.
constexpr int64_t kMinOpset = 7, kMaxOpset = 30;

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
    if (opset_ < kMinOpset || opset_ > kMaxOpset)
      return fail(Errc::unsupported, cat(path_, ": ai.onnx opset ", opset_, " is outside ", kMinOpset, "..", kMaxOpset,
                                         ", the opsets whose LSTM/GRU/RNN and glue ops recur reads"));
    const auto& g = model_.graph();
    consts_.emplace(g, path_);
    // x: the first graph input that is not an initializer.
    for (const auto& in : g.input()) {
      if (consts_->is_initializer(in.name())) continue;
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
  std::optional<OnnxConstants> consts_;
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

  // Initial state: absent/empty, a graph input (caller passes h0/c0), or provably all zero.
  Status check_initial_state(const onnx::NodeProto& n, int index, const char* what) {
    if (n.input_size() <= index || n.input(index).empty()) return Status::Ok();
    const std::string& name = n.input(index);
    if (graph_inputs_.count(name)) {
      conv_.notes.push_back(cat(what, " of node '", node_label(n), "' is the graph input '", name,
                                "': pass it to run() as h0/c0 (zeros when omitted)"));
      return Status::Ok();
    }
    if (consts_->provably_zero(name)) return Status::Ok();
    return node_error(n, Errc::unsupported,
                      cat(what, " '", name, "' is neither a graph input nor provably zero; a recur model starts "
                                "from zeros or from a state the caller passes"));
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
      int64_t to = node_attr_i(n, "to", 0);
      if (to != onnx::TensorProto::FLOAT && to != onnx::TensorProto::DOUBLE)
        return node_error(n, Errc::unsupported, cat("Cast to data type ", to, " on the model's path"));
      return out(c);
    }
    if (c.kind != Chain::seq) return state_op(n, c);
    if (op == "Transpose") {
      auto perm = consts_->int_list(n, 99, "perm");
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
      auto axes = consts_->int_list(n, 1, "axes");
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
      auto shape = consts_->int_list(n, 1, "shape");
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
      int64_t axis = node_attr_i(n, "axis", 0);
      if (axis < 0) axis += static_cast<int64_t>(c.axes.size());
      if (which != 0) return node_error(n, Errc::unsupported, "the model's values are used as gather indices");
      auto idx = consts_->get(n.input(1), "indices");
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
      auto starts = consts_->int_list(n, 1, "starts");
      auto ends = consts_->int_list(n, 2, "ends");
      auto axes = consts_->int_list(n, 3, "axes");
      auto steps = consts_->int_list(n, 4, "steps");
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
      if (which != 0 || !consts_->is_const(n.input(1)))
        return node_error(n, Errc::unsupported, "MatMul must multiply the model's output by a constant matrix");
      auto W = consts_->get(n.input(1), "weight");
      if (!W.ok()) return node_error(n, W.status().code(), W.status().message());
      if (W->dims.size() != 2 || W->dims[0] != c.width)
        return node_error(n, Errc::invalid_model, cat("weight has shape ", shape_str(W->dims), ", expected (", c.width, ", out)"));
      RECUR_TRY(start_head(n, c, transpose2d(to_tensor(*W))));
      c.width = W->dims[1];
      return out(c);
    }
    if (op == "Gemm") {
      if (which != 0 || !consts_->is_const(n.input(1)))
        return node_error(n, Errc::unsupported, "Gemm must multiply the model's output by a constant matrix");
      if (c.axes.size() != 2) return node_error(n, Errc::unsupported, cat("Gemm on a value with axes ", axes_str(c)));
      if (node_attr_i(n, "transA", 0) != 0) return node_error(n, Errc::unsupported, "transA=1");
      for (const auto& a : n.attribute())
        if (a.name() != "alpha" && a.name() != "beta" && a.name() != "transA" && a.name() != "transB")
          return node_error(n, Errc::unsupported, cat("attribute '", a.name(), "' is not known"));
      const auto* alpha_a = node_attr(n, "alpha");
      const auto* beta_a = node_attr(n, "beta");
      double alpha = alpha_a ? alpha_a->f() : 1.0, beta = beta_a ? beta_a->f() : 1.0;
      auto W = consts_->get(n.input(1), "weight");
      if (!W.ok()) return node_error(n, W.status().code(), W.status().message());
      if (W->dims.size() != 2) return node_error(n, Errc::invalid_model, "weight is not 2-D");
      Tensor w = to_tensor(*W);
      if (node_attr_i(n, "transB", 0) == 0) w = transpose2d(w);
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
      int64_t axis = node_attr_i(n, "axis", opset_ >= 13 ? -1 : 1);
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
    auto b = consts_->get(name, "bias");
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
      if (node_attr_i(n, "axis", 0) != 0) return node_error(n, Errc::unsupported, "concat of states along an axis other than 0");
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
      if (node_attr_i(n, "axis", 0) != 0) return node_error(n, Errc::unsupported, "gather from a state along an axis other than 0");
      auto idx = consts_->get(n.input(1), "indices");
      if (!idx.ok()) return node_error(n, idx.status().code(), idx.status().message());
      if (!idx->dims.empty() || idx->v.size() != 1) return node_error(n, Errc::unsupported, "non-scalar gather from a state");
      if (!exact_int64(idx->v[0], row)) return node_error(n, Errc::invalid_model, "Gather index is not an integer");
      if (row < 0) row += nrows;
    } else if (op == "Squeeze") {
      auto axes = consts_->int_list(n, 1, "axes");
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
    conv_.notes.push_back(cat("node '", node_label(n), "': the final hidden state is used as the output at the last step"));
    if (lengths_input_) conv_.notes.push_back("with sequence_lens, h_n and y[T-1] differ: pass no lengths to run()");
    return out(s);
  }
  bool lengths_input_ = false;

  Status recurrent(const onnx::NodeProto& n) {
    const std::string& op = n.op_type();
    const CellType cell = rnn_cell(n);
    RECUR_TRY(check_rnn_attributes(n));
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
    const int64_t layout = node_attr_i(n, "layout", 0);
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

    auto rnn = translate_rnn(n, *consts_, xin.width);
    if (!rnn.ok()) return rnn.status();
    if (n.input_size() > 4 && !n.input(4).empty()) {
      if (!graph_inputs_.count(n.input(4)))
        return node_error(n, Errc::unsupported, "sequence_lens must be a graph input (lengths are passed to run())");
      lengths_input_ = true;
      conv_.notes.push_back(cat("sequence_lens '", n.input(4), "' is a graph input: pass lengths to run()"));
    }
    RECUR_TRY(check_initial_state(n, 5, "initial_h"));
    if (cell == CellType::lstm) RECUR_TRY(check_initial_state(n, 6, "initial_c"));
    const int64_t H = rnn->layer.hidden_size, D = direction_count(rnn->layer.direction);
    const int index = static_cast<int>(conv_.spec.layers.size());
    conv_.spec.layers.push_back(std::move(rnn->layer));
    native_.layers.push_back(std::move(rnn->native));
    if (options_.progress) options_.progress(cat("read ", op, " node '", node_label(n), "' (layer ", index, ")"));

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
