// state_dict -> ModelSpec. PyTorch nn.LSTM/GRU/RNN store per layer k and direction suffix
// ("" or "_reverse"): weight_ih_l<k> (G*H, I), weight_hh_l<k> (G*H, Hout), bias_ih_l<k> (G*H),
// bias_hh_l<k> (G*H), weight_hr_l<k> (Hout, H) with gates LSTM i,f,g,o (= canonical) and
// GRU r,z,n (-> canonical z,r,n; PyTorch GRU is linear_before_reset). LSTM_v1 (seed 002):
// four Linears f_gate, i_gate, c_cell, o_gate of weight (H, I+H) over [x_t, h_t].
#include "tools/convert/state_dict.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "tools/convert/source_reference.hpp"
#include "tools/convert/util.hpp"

namespace recur::convert {
namespace {

struct Lookup {
  const StateDict& sd;
  std::set<std::string> used;
  const NamedTensor* find(const std::string& name) const {
    for (const auto& t : sd)
      if (t.name == name) return &t;
    return nullptr;
  }
  Result<Tensor> get(const std::string& name, size_t rank) {
    const NamedTensor* t = find(name);
    if (!t) return fail(Errc::invalid_model, cat("state_dict has no tensor '", name, "'"));
    if (!t->is_float)
      return fail(Errc::bad_tensor, cat("tensor '", name, "' has dtype ", t->dtype, ", expected a float type"));
    if (t->tensor.shape.size() != rank)
      return fail(Errc::invalid_model, cat("tensor '", name, "' has shape ", shape_str(t->tensor.shape),
                                           ", expected rank ", rank));
    used.insert(name);
    return t->tensor;
  }
  // Optional tensor: empty when absent.
  Result<Tensor> opt(const std::string& name, size_t rank) {
    if (!find(name)) return Tensor{};
    return get(name, rank);
  }
};

// "<prefix>weight_ih_l<k>[_reverse]" -> prefix, k, reverse; false for any other name.
bool parse_weight_ih(const std::string& name, std::string& prefix, std::string& layer, bool& reverse) {
  static const std::string kKey = "weight_ih_l";
  size_t at = name.rfind(kKey);
  if (at == std::string::npos) return false;
  size_t p = at + kKey.size(), digits = p;
  while (digits < name.size() && std::isdigit(static_cast<unsigned char>(name[digits]))) ++digits;
  if (digits == p) return false;
  std::string rest = name.substr(digits);
  if (!rest.empty() && rest != "_reverse") return false;
  prefix = name.substr(0, at);
  layer = name.substr(p, digits - p);
  reverse = !rest.empty();
  return true;
}

CellType cell_from_arch(const std::string& arch) {
  if (arch == "gru") return CellType::gru;
  if (arch == "rnn") return CellType::rnn;
  return CellType::lstm;
}

// The options a state_dict cannot replace, named in one refusal.
Status missing_options(const std::vector<std::string>& missing) {
  std::string list;
  for (size_t i = 0; i < missing.size(); ++i) list += (i ? "; and " : "") + missing[i];
  return fail(Errc::invalid_argument, list);
}

// A state_dict holds weights, not forward(): the layout a wrapper module feeds its recurrent
// module, and whether a head reads the last step or every step, are not in it. A bare
// nn.LSTM/GRU/RNN state_dict (no prefix, nothing else) takes PyTorch's default, time-major.
void resolve_layout(const ArchOptions& arch, const std::string& rnn_prefix, bool has_head, Conversion& conv,
                    std::vector<std::string>& missing) {
  if (arch.batch_first) {
    conv.spec.batch_first = *arch.batch_first;
    conv.unchecked.push_back(cat("the layout ", *arch.batch_first ? "(B, T, F), from --batch-first"
                                                                   : "(T, B, F), from --time-major"));
    return;
  }
  if (rnn_prefix.empty() && !has_head) {
    conv.spec.batch_first = false;
    conv.notes.push_back("assumed: time-major (T, B, F), the default of a bare nn.LSTM/GRU/RNN "
                         "(pass --batch-first if it was built with batch_first=True)");
    conv.unchecked.push_back("the layout (T, B, F), assumed: PyTorch's default");
    return;
  }
  const std::string holder = rnn_prefix.empty() ? std::string("the state_dict holds a dense head beside the recurrent weights")
                                                : cat("the state_dict is of a module holding '", rnn_prefix, "'",
                                                      has_head ? " and a dense head" : "");
  missing.insert(missing.begin(), cat(holder, ": its forward() decides whether x is (B, T, F) or (T, B, F), which the weights do not show; "
                        "pass --batch-first or --time-major"));
}

Status convert_head(Lookup& lk, const ArchOptions& arch, const std::string& rnn_prefix, int64_t width,
                    ModelSpec& spec, NativeModel& native, Conversion& conv, std::vector<std::string>& missing) {
  if (arch.head == "none") return Status::Ok();
  if (!arch.head.empty() && arch.head != "linear")
    return fail(Errc::invalid_argument, cat("--head '", arch.head, "': expected none or linear"));
  std::string hp = arch.head_prefix;
  if (hp.empty()) {
    std::vector<std::string> candidates;
    for (const auto& t : lk.sd) {
      const std::string& n = t.name;
      if (n.size() < 6 || n.compare(n.size() - 6, 6, "weight") != 0) continue;
      if (lk.used.count(n) || !t.is_float || t.tensor.shape.size() != 2) continue;
      if (!rnn_prefix.empty() && n.rfind(rnn_prefix, 0) == 0) continue;
      if (t.tensor.shape[1] == width) candidates.push_back(n.substr(0, n.size() - 6));
    }
    if (candidates.empty()) {
      if (arch.head == "linear")
        return fail(Errc::invalid_model, cat("--head linear: no 2-D '<prefix>weight' with ", width, " columns"));
      conv.notes.push_back("inferred: no dense head (no Linear taking the last layer's output)");
      return Status::Ok();
    }
    if (candidates.size() > 1)
      return fail(Errc::invalid_argument, cat("several tensors could be the head ('", candidates[0], "weight', '",
                                              candidates[1], "weight'): pass --head-prefix"));
    hp = candidates[0];
    conv.notes.push_back(cat("inferred: dense head from '", hp, "weight'"));
  }
  auto W = lk.get(hp + "weight", 2);
  if (!W.ok()) return W.status();
  auto b = lk.opt(hp + "bias", 1);
  if (!b.ok()) return b.status();
  DenseHead head;
  head.input_size = W->shape[1];
  head.output_size = W->shape[0];
  if (head.input_size != width)
    return fail(Errc::invalid_model, cat("head '", hp, "weight' has shape ", shape_str(W->shape), ", expected (",
                                         head.output_size, ", ", width, ") to take the last layer's output"));
  head.W = *W;
  head.b = b->empty() ? make_tensor({head.output_size}) : *b;
  RECUR_TRY(expect_shape(head.b, {head.output_size}, hp + "bias"));
  if (!arch.last_step) {
    missing.push_back(cat("the dense head '", hp, "weight' may read the last step (out[:, -1] / out[-1]) or "
                          "every step, which the weights do not show; pass --last-step or --every-step"));
  } else {
    conv.unchecked.push_back(*arch.last_step ? "the head on the last step only, from --last-step"
                                             : "the head at every step, from --every-step");
  }
  const bool last_step = arch.last_step.value_or(false);  // refused at the end when unset
  head.softmax = arch.softmax;
  head.last_step_only = last_step;
  NativeHead nh{*W, false, *b, arch.softmax, last_step};
  spec.head = head;
  native.head = nh;
  return Status::Ok();
}

Result<Conversion> convert_lstm_v1(Lookup& lk, const std::string& p, const std::string& path,
                                   SourceFormat format, const ConvertOptions& options) {
  Conversion conv;
  conv.format = format;
  const char* names[4] = {"f_gate", "i_gate", "c_cell", "o_gate"};
  NativeDirection nd;
  int64_t H = 0, I = 0;
  for (int g = 0; g < 4; ++g) {
    auto W = lk.get(p + names[g] + ".weight", 2);
    if (!W.ok()) return W.status();
    auto b = lk.get(p + names[g] + ".bias", 1);
    if (!b.ok()) return b.status();
    if (g == 0) {
      H = W->shape[0];
      I = W->shape[1] - H;
      if (I <= 0)
        return fail(Errc::invalid_model, cat("'", p, "f_gate.weight' has shape ", shape_str(W->shape),
                                             ": expected (H, I+H) with I > 0"));
    }
    RECUR_TRY(expect_shape(*W, {H, I + H}, p + names[g] + ".weight"));
    RECUR_TRY(expect_shape(*b, {H}, p + names[g] + ".bias"));
    nd.v1_W.push_back(*W);
    nd.v1_b.push_back(*b);
  }
  // Each Linear acts on [x_t, h_t]: columns [0, I) are the input part, [I, I+H) the recurrent.
  // Canonical stacking i, f, g(= c_cell), o.
  const int order[4] = {1, 0, 2, 3};
  std::vector<Tensor> Ws, Rs, bs;
  for (int g : order) {
    Ws.push_back(slice_cols(nd.v1_W[g], 0, I));
    Rs.push_back(slice_cols(nd.v1_W[g], I, H));
    bs.push_back(nd.v1_b[g]);
  }
  RecurrentLayer layer;
  layer.cell = CellType::lstm;
  layer.input_size = I;
  layer.hidden_size = H;
  DirectionWeights dw;
  dw.W = concat_rows(Ws);
  dw.R = concat_rows(Rs);
  dw.Wb = concat_rows(bs);
  dw.Rb = make_tensor({4 * H});
  layer.weights.push_back(dw);
  conv.spec.layers.push_back(layer);
  if (options.arch.batch_first == false)
    return fail(Errc::invalid_argument, "--time-major: LSTM_v1's forward() takes x as (B, T, I)");
  conv.spec.batch_first = true;  // LSTM_v1.forward takes x (B, T, I) and returns (B, T, H)
  conv.notes.push_back("LSTM_v1: four Linears over [x_t, h_t] -> one LSTM; batch-first like its forward()");

  NativeModel native;
  native.batch_first = true;
  NativeLayer nl;
  nl.lstm_v1 = true;
  nl.input_size = I;
  nl.hidden_size = H;
  nl.dirs.push_back(nd);
  native.layers.push_back(nl);
  std::vector<std::string> missing;
  RECUR_TRY(convert_head(lk, options.arch, p, H, conv.spec, native, conv, missing));
  RECUR_TRY(finish_spec(conv.spec, path, options.name));
  if (!missing.empty()) return missing_options(missing);
  conv.reference = [native](const std::vector<double>& x, int64_t T, int64_t B) {
    return evaluate_native(native, x, T, B);
  };
  return conv;
}

}  // namespace

Result<Conversion> convert_state_dict(const StateDict& sd, const std::string& path, SourceFormat format,
                                      const ConvertOptions& options) {
  const ArchOptions& arch = options.arch;
  Lookup lk{sd, {}};
  if (!arch.arch.empty() && arch.arch != "lstm" && arch.arch != "gru" && arch.arch != "rnn" &&
      arch.arch != "lstm_v1")
    return fail(Errc::invalid_argument, cat("--arch '", arch.arch, "': expected lstm, gru, rnn or lstm_v1"));

  // LSTM_v1: explicit, or recognised by its four gate Linears.
  std::string v1_prefix = arch.prefix;
  bool is_v1 = arch.arch == "lstm_v1";
  if (arch.arch.empty()) {
    for (const auto& t : sd) {
      const std::string suffix = "f_gate.weight";
      if (t.name.size() >= suffix.size() && t.name.compare(t.name.size() - suffix.size(), suffix.size(), suffix) == 0) {
        v1_prefix = t.name.substr(0, t.name.size() - suffix.size());
        is_v1 = lk.find(v1_prefix + "i_gate.weight") && lk.find(v1_prefix + "c_cell.weight") &&
                lk.find(v1_prefix + "o_gate.weight");
        if (is_v1) break;
      }
    }
  }
  Conversion conv;
  conv.format = format;
  ModelSpec& spec = conv.spec;
  NativeModel native;
  if (is_v1) {
    if (arch.arch.empty()) conv.notes.push_back("inferred: arch lstm_v1 (f_gate, i_gate, c_cell, o_gate)");
    auto r = convert_lstm_v1(lk, v1_prefix, path, format, options);
    if (!r.ok()) return r.status();
    for (auto& n : conv.notes) r->notes.insert(r->notes.begin(), n);
    conv = std::move(*r);
  } else {
    // nn.LSTM / nn.GRU / nn.RNN.
    std::set<std::string> prefixes;
    int max_layer = -1;
    bool any_reverse = false;
    for (const auto& t : sd) {
      std::string prefix, layer;
      bool reverse = false;
      if (!parse_weight_ih(t.name, prefix, layer, reverse)) continue;
      if (!arch.prefix.empty() && prefix != arch.prefix) continue;
      prefixes.insert(prefix);
      if (layer.size() > 4) return fail(Errc::invalid_model, cat("tensor '", t.name, "': layer index too large"));
      max_layer = std::max(max_layer, std::stoi(layer));
      any_reverse |= reverse;
    }
    if (prefixes.empty())
      return fail(Errc::invalid_model,
                  arch.prefix.empty() ? std::string("no recurrent weights found: expected 'weight_ih_l0' (nn.LSTM/GRU/RNN) or "
                                                    "'f_gate.weight' (LSTM_v1)")
                                      : cat("no tensor '", arch.prefix, "weight_ih_l0'"));
    if (prefixes.size() > 1)
      return fail(Errc::invalid_argument, cat("several recurrent modules ('", *prefixes.begin(), "', '",
                                              *std::next(prefixes.begin()), "'): pass --prefix"));
    const std::string p = *prefixes.begin();
    if (arch.prefix.empty() && !p.empty()) conv.notes.push_back(cat("inferred: recurrent module '", p, "'"));
    int layers = max_layer + 1;
    if (arch.layers > 0 && arch.layers != layers)
      return fail(Errc::invalid_model, cat("--layers ", arch.layers, " but the state_dict has ", layers, " layer(s)"));
    bool bidir = arch.bidirectional.value_or(any_reverse);
    if (bidir != any_reverse)
      return fail(Errc::invalid_model, cat("--bidirectional ", bidir ? "given" : "false", " but the state_dict ",
                                           any_reverse ? "has" : "has no", " *_reverse tensors"));
    bool has_proj = lk.find(p + "weight_hr_l0") != nullptr;
    if (arch.proj_size == 0 && has_proj)
      return fail(Errc::invalid_model, "--proj-size 0 but the state_dict has weight_hr_l0");

    CellType cell = cell_from_arch(arch.arch);
    int64_t width = 0;
    for (int k = 0; k < layers; ++k) {
      if (options.progress) options.progress(cat("layer ", k + 1, " of ", layers));
      RecurrentLayer layer;
      NativeLayer nl;
      layer.direction = bidir ? Direction::bidirectional : Direction::forward;
      for (int d = 0; d < (bidir ? 2 : 1); ++d) {
        std::string sfx = cat("_l", k, d ? "_reverse" : "");
        auto W = lk.get(p + "weight_ih" + sfx, 2);
        if (!W.ok()) return W.status();
        auto R = lk.get(p + "weight_hh" + sfx, 2);
        if (!R.ok()) return R.status();
        auto bi = lk.opt(p + "bias_ih" + sfx, 1);
        if (!bi.ok()) return bi.status();
        auto bh = lk.opt(p + "bias_hh" + sfx, 1);
        if (!bh.ok()) return bh.status();
        auto Wp = lk.opt(p + "weight_hr" + sfx, 2);
        if (!Wp.ok()) return Wp.status();
        if (has_proj && Wp->empty()) return fail(Errc::invalid_model, cat("tensor '", p, "weight_hr", sfx, "' is missing"));
        int64_t Hout = R->shape[1];
        int64_t H = Wp->empty() ? Hout : Wp->shape[1];
        if (H <= 0 || W->shape[0] % H != 0)
          return fail(Errc::invalid_model, cat("'", p, "weight_ih", sfx, "' has ", W->shape[0],
                                               " rows: not a multiple of the hidden size ", H));
        int64_t G = W->shape[0] / H;
        if (k == 0 && d == 0) {
          if (arch.arch.empty()) {
            if (G == 4) cell = CellType::lstm;
            else if (G == 3) cell = CellType::gru;
            else if (G == 1) cell = CellType::rnn;
            else
              return fail(Errc::invalid_model, cat("'", p, "weight_ih_l0' has ", W->shape[0], " rows = ", G,
                                                   " x hidden ", H, ": not an LSTM (4), GRU (3) or RNN (1)"));
            conv.notes.push_back(cat("inferred: arch ", cell_name(cell), ", ", layers, " layer(s), ",
                                     bidir ? "bidirectional" : "unidirectional", ", hidden ", H,
                                     has_proj ? cat(", proj ", Hout) : std::string()));
          }
        }
        if (G != gate_count(cell))
          return fail(Errc::invalid_model, cat("'", p, "weight_ih", sfx, "' has shape ", shape_str(W->shape), ": expected (",
                                               gate_count(cell), "*", H, ", I) for ", cell_name(cell)));
        if (has_proj && cell != CellType::lstm) return fail(Errc::invalid_model, "weight_hr_* only exists for LSTM");
        if (arch.proj_size > 0 && arch.proj_size != (has_proj ? Hout : 0))
          return fail(Errc::invalid_model, cat("--proj-size ", arch.proj_size, " but the state_dict has ",
                                               has_proj ? Hout : 0));
        if (d == 0) {
          layer.cell = cell;
          layer.input_size = W->shape[1];
          layer.hidden_size = H;
          layer.proj_size = has_proj ? Hout : 0;
          layer.linear_before_reset = cell == CellType::gru;
        } else if (W->shape[1] != layer.input_size || H != layer.hidden_size) {
          return fail(Errc::invalid_model, cat("layer ", k, ": reverse direction sizes differ from forward"));
        }
        if (k > 0 && layer.input_size != width)
          return fail(Errc::invalid_model, cat("'", p, "weight_ih", sfx, "' has shape ", shape_str(W->shape),
                                               ": expected ", width, " columns (the previous layer's output)"));
        int64_t GH = G * H;
        RECUR_TRY(expect_shape(*R, {GH, Hout}, p + "weight_hh" + sfx));
        Tensor Wb = bi->empty() ? make_tensor({GH}) : *bi;
        Tensor Rb = bh->empty() ? make_tensor({GH}) : *bh;
        RECUR_TRY(expect_shape(Wb, {GH}, p + "bias_ih" + sfx));
        RECUR_TRY(expect_shape(Rb, {GH}, p + "bias_hh" + sfx));
        if (has_proj) RECUR_TRY(expect_shape(*Wp, {Hout, H}, p + "weight_hr" + sfx));

        const std::string from = cell == CellType::lstm ? "ifgo" : cell == CellType::gru ? "rzn" : "h";
        const std::string to = cell == CellType::lstm ? "ifgo" : cell == CellType::gru ? "zrn" : "h";
        DirectionWeights dw;
        dw.W = reorder_gates(*W, H, from, to);
        dw.R = reorder_gates(*R, H, from, to);
        dw.Wb = reorder_gates(Wb, H, from, to);
        dw.Rb = reorder_gates(Rb, H, from, to);
        dw.Wp = *Wp;
        layer.weights.push_back(dw);
        nl.dirs.push_back(NativeDirection{*W, *R, *bi, *bh, Tensor{}, *Wp, {}, {}});
      }
      if (cell == CellType::rnn) {
        std::string nonlin = arch.nonlinearity.empty() ? "tanh" : arch.nonlinearity;
        if (nonlin != "tanh" && nonlin != "relu")
          return fail(Errc::invalid_argument, cat("--nonlinearity '", nonlin, "': expected tanh or relu"));
        if (arch.nonlinearity.empty() && k == 0)
          conv.notes.push_back("assumed: rnn nonlinearity tanh (a state_dict cannot tell; pass --nonlinearity relu if needed)");
        if (nonlin == "relu") {
          Activation a;
          activation_with_defaults("Relu", a);
          layer.activations.assign(static_cast<size_t>(direction_count(layer.direction)), a);
        }
      } else if (!arch.nonlinearity.empty()) {
        return fail(Errc::invalid_argument, "--nonlinearity applies to --arch rnn only");
      }
      nl.cell = cell;
      nl.gate_order = cell == CellType::lstm ? "ifgo" : cell == CellType::gru ? "rzn" : "h";
      nl.direction = layer.direction;
      nl.input_size = layer.input_size;
      nl.hidden_size = layer.hidden_size;
      nl.proj_size = layer.proj_size;
      nl.activations = layer.activations;
      nl.linear_before_reset = layer.linear_before_reset;
      width = layer.output_width();
      spec.layers.push_back(layer);
      native.layers.push_back(nl);
    }
    std::vector<std::string> missing;
    RECUR_TRY(convert_head(lk, arch, p, width, spec, native, conv, missing));
    resolve_layout(arch, p, spec.head.has_value(), conv, missing);
    native.batch_first = spec.batch_first;

    // Every float tensor must be part of the converted model, or the user named the module.
    std::vector<std::string> unused;
    for (const auto& t : sd)
      if (t.is_float && !lk.used.count(t.name)) unused.push_back(t.name);
    if (!unused.empty()) {
      std::string list;
      for (size_t i = 0; i < unused.size() && i < 5; ++i) list += (i ? ", " : "") + unused[i];
      if (unused.size() > 5) list += cat(", ... (", unused.size(), " in all)");
      if (arch.prefix.empty())
        return fail(Errc::unsupported, cat("tensors not part of an RNN stack + dense head: ", list,
                                           " (pass --prefix to convert only the recurrent module)"));
      conv.notes.push_back(cat("ignored (not under --prefix): ", list));
    }
    RECUR_TRY(finish_spec(spec, path, options.name));
    if (!missing.empty()) return missing_options(missing);
    conv.reference = [native](const std::vector<double>& x, int64_t T, int64_t B) {
      return evaluate_native(native, x, T, B);
    };
  }
  for (size_t i = 0; i < conv.spec.layers.size(); ++i) conv.layers.push_back(describe_layer(conv.spec.layers[i], i));
  if (conv.spec.head) conv.layers.push_back(describe_head(*conv.spec.head));
  return conv;
}

}  // namespace recur::convert
