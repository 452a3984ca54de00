// ONNX LSTM/GRU/RNN node -> RecurrentLayer (canonical) + NativeLayer (the node's own layout).
#include "tools/convert/onnx_rnn.hpp"

#include <cmath>
#include <set>

#include "formats/activations.hpp"
#include "tools/convert/onnx_node.hpp"
#include "tools/convert/util.hpp"

namespace recur::convert {
namespace {

const std::set<std::string> kRnnAttrs = {"activation_alpha", "activation_beta", "activations", "clip",
                                         "direction", "hidden_size", "input_forget", "layout",
                                         "linear_before_reset"};

}  // namespace

CellType rnn_cell(const onnx::NodeProto& n) {
  const std::string& op = n.op_type();
  return op == "LSTM" ? CellType::lstm : op == "GRU" ? CellType::gru : CellType::rnn;
}

Status check_rnn_attributes(const onnx::NodeProto& n) {
  const std::string& op = n.op_type();
  const CellType cell = rnn_cell(n);
  for (const auto& a : n.attribute()) {
    if (!kRnnAttrs.count(a.name()) || (a.name() == "input_forget" && cell != CellType::lstm) ||
        (a.name() == "linear_before_reset" && cell != CellType::gru))
      return node_error(n, Errc::unsupported, cat("attribute '", a.name(), "' is not known for ", op));
  }
  return Status::Ok();
}

Result<RnnNode> translate_rnn(const onnx::NodeProto& n, const OnnxConstants& consts, int64_t input_width) {
  const std::string& op = n.op_type();
  const CellType cell = rnn_cell(n);
  const int G = gate_count(cell);
  auto W = consts.get(n.input(1), "W");
  if (!W.ok()) return node_error(n, W.status().code(), W.status().message());
  auto R = consts.get(n.input(2), "R");
  if (!R.ok()) return node_error(n, R.status().code(), R.status().message());
  std::string dir_s = "forward";
  if (const auto* a = node_attr(n, "direction")) dir_s = a->s();
  Direction dir;
  if (dir_s == "forward") dir = Direction::forward;
  else if (dir_s == "reverse") dir = Direction::reverse;
  else if (dir_s == "bidirectional") dir = Direction::bidirectional;
  else return node_error(n, Errc::unsupported, cat("direction '", dir_s, "'"));
  const int64_t D = direction_count(dir);
  const auto* hs = node_attr(n, "hidden_size");
  int64_t H = hs ? hs->i() : R->dims.size() == 3 ? R->dims[2] : -1;
  if (H <= 0) return node_error(n, Errc::invalid_model, cat("hidden_size ", H, " is missing or not positive"));
  // Sizes from the file: G*H, 2*G*H, 3*H and the weights' element counts are checked products.
  int64_t GH = 0, GH2 = 0, D_GH2 = 0, H3 = 0;
  if (!checked::mul(int64_t{G}, H, GH) || !checked::mul(GH, int64_t{2}, GH2) || !checked::mul(D, GH2, D_GH2) ||
      !checked::mul(H, int64_t{3}, H3))
    return node_error(n, Errc::invalid_model, cat("hidden_size ", H, " is too large"));
  if (W->dims.size() != 3 || W->dims[0] != D || W->dims[1] != GH)
    return node_error(n, Errc::invalid_model, cat("W '", n.input(1), "' has shape ", shape_str(W->dims), ", expected (",
                                                  D, ", ", GH, ", input_size)"));
  const int64_t I = W->dims[2];
  if (input_width >= 0 && input_width != I)
    return node_error(n, Errc::invalid_model, cat("W '", n.input(1), "' has shape ", shape_str(W->dims),
                                                  " but the input has ", input_width, " features"));
  if (R->dims != std::vector<int64_t>{D, GH, H})
    return node_error(n, Errc::invalid_model, cat("R '", n.input(2), "' has shape ", shape_str(R->dims), ", expected ",
                                                  shape_str({D, GH, H})));
  OnnxConst B{{D, GH2}, {}, 1};
  if (n.input_size() > 3 && !n.input(3).empty()) {
    auto b = consts.get(n.input(3), "B");
    if (!b.ok()) return node_error(n, b.status().code(), b.status().message());
    if (b->dims != B.dims)
      return node_error(n, Errc::invalid_model, cat("B '", n.input(3), "' has shape ", shape_str(b->dims), ", expected ",
                                                    shape_str(B.dims)));
    B = *b;
  } else {
    B.v.assign(static_cast<size_t>(D_GH2), 0.0);  // W's and R's shapes were checked: D*2*G*H is small
  }
  OnnxConst P;
  bool peep = false;
  if (cell == CellType::lstm && n.input_size() > 7 && !n.input(7).empty()) {
    auto p = consts.get(n.input(7), "P");
    if (!p.ok()) return node_error(n, p.status().code(), p.status().message());
    if (p->dims != std::vector<int64_t>{D, H3})
      return node_error(n, Errc::invalid_model, cat("P '", n.input(7), "' has shape ", shape_str(p->dims), ", expected ",
                                                    shape_str({D, H3})));
    P = *p;
    peep = true;
  }

  RnnNode out;
  RecurrentLayer& layer = out.layer;
  layer.cell = cell;
  layer.direction = dir;
  layer.input_size = I;
  layer.hidden_size = H;
  layer.peepholes = peep;
  if (const auto* a = node_attr(n, "clip")) {
    if (!(a->f() > 0) || !std::isfinite(a->f())) return node_error(n, Errc::unsupported, cat("clip ", a->f()));
    layer.clip = a->f();
  }
  layer.input_forget = node_attr_i(n, "input_forget", 0) != 0;
  int64_t lbr = node_attr_i(n, "linear_before_reset", 0);
  if (lbr != 0 && lbr != 1) return node_error(n, Errc::unsupported, cat("linear_before_reset ", lbr));
  layer.linear_before_reset = lbr == 1;
  if (const auto* a = node_attr(n, "activations")) {
    const int per = activation_count(cell);
    if (a->strings_size() != per * D)
      return node_error(n, Errc::unsupported, cat(a->strings_size(), " activations; ", op, " with ", D,
                                                  " direction(s) needs ", per * D));
    const auto* al = node_attr(n, "activation_alpha");
    const auto* be = node_attr(n, "activation_beta");
    // How activation_alpha/beta are "consumed in the order of activation functions" follows
    // onnxruntime, the de-facto reference: LSTM and GRU take the next value only for a
    // function that uses one; RNN indexes both lists by the function's position.
    const bool positional = cell == CellType::rnn;
    int ai = 0, bi = 0;
    for (int k = 0; k < a->strings_size(); ++k) {
      const std::string& s = a->strings(k);
      const ActivationInfo* fn = find_activation_nocase(s);
      if (!fn) return node_error(n, Errc::unsupported, cat("activation '", s, "' is not known"));
      Activation act{fn->name, fn->alpha, fn->beta};
      if (positional) {
        if (fn->uses_alpha && al && k < al->floats_size()) act.alpha = al->floats(k);
        if (fn->uses_beta && be && k < be->floats_size()) act.beta = be->floats(k);
      } else {
        if (fn->uses_alpha && al && ai < al->floats_size()) act.alpha = al->floats(ai++);
        if (fn->uses_beta && be && bi < be->floats_size()) act.beta = be->floats(bi++);
      }
      layer.activations.push_back(act);
    }
  } else if (node_attr(n, "activation_alpha") || node_attr(n, "activation_beta")) {
    return node_error(n, Errc::unsupported, "activation_alpha/beta without activations");
  }

  NativeLayer& nl = out.native;
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
  return out;
}

}  // namespace recur::convert
