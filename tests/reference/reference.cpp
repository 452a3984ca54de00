// The fp64 reference model (see reference.hpp). Every quantity is a double; weights are read
// element by element from the spec's canonical tensors: W (G*H, I), R (G*H, Hout), Wb/Rb (G*H),
// P (3H: i, f, o), Wp (Hout, H); gate blocks lstm i, f, g, o; gru z, r, n.
#include "tests/reference/reference.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace recur::reference {
namespace {

// Element (row, col) of a row-major 2-D tensor.
double at(const Tensor& t, int64_t row, int64_t col) {
  return static_cast<double>(t.data[static_cast<size_t>(row * t.shape[1] + col)]);
}
double at(const Tensor& t, int64_t i) { return static_cast<double>(t.data[static_cast<size_t>(i)]); }

// Pre-activation of gate row k: W[k,:] x + Wb[k] + R[k,:] h + Rb[k].
double gate_input(const DirectionWeights& w, int64_t k, const std::vector<double>& x,
                  const std::vector<double>& h) {
  double sum = at(w.Wb, k) + at(w.Rb, k);
  for (size_t j = 0; j < x.size(); ++j) sum += at(w.W, k, static_cast<int64_t>(j)) * x[j];
  for (size_t j = 0; j < h.size(); ++j) sum += at(w.R, k, static_cast<int64_t>(j)) * h[j];
  return sum;
}

// W[k,:] x + Wb[k] only (GRU's n gate keeps the recurrent part apart).
double input_part(const DirectionWeights& w, int64_t k, const std::vector<double>& x) {
  double sum = at(w.Wb, k);
  for (size_t j = 0; j < x.size(); ++j) sum += at(w.W, k, static_cast<int64_t>(j)) * x[j];
  return sum;
}

// R[k,:] v + Rb[k].
double recurrent_part(const DirectionWeights& w, int64_t k, const std::vector<double>& v) {
  double sum = at(w.Rb, k);
  for (size_t j = 0; j < v.size(); ++j) sum += at(w.R, k, static_cast<int64_t>(j)) * v[j];
  return sum;
}

// ONNX clip: pre-activations bounded to [-clip, clip] when clip > 0.
double clip_value(double v, float clip) {
  if (clip <= 0.0f) return v;
  const double c = static_cast<double>(clip);
  return std::min(std::max(v, -c), c);
}

// One LSTM step for one batch row. h (Hout), c (H) are updated in place.
void lstm_step(const RecurrentLayer& layer, const DirectionWeights& w,
               const std::vector<Activation>& acts, const std::vector<double>& x,
               std::vector<double>& h, std::vector<double>& c) {
  const int64_t H = layer.hidden_size;
  const Activation& f = acts[0];
  const Activation& g = acts[1];
  const Activation& hact = acts[2];
  std::vector<double> c_new(static_cast<size_t>(H));
  std::vector<double> out(static_cast<size_t>(H));  // o ⊙ h(c_t), before projection
  for (int64_t u = 0; u < H; ++u) {
    const double c_prev = c[static_cast<size_t>(u)];
    const double p_i = layer.peepholes ? at(w.P, 0 * H + u) : 0.0;
    const double p_f = layer.peepholes ? at(w.P, 1 * H + u) : 0.0;
    const double p_o = layer.peepholes ? at(w.P, 2 * H + u) : 0.0;

    const double i = activate(f, clip_value(gate_input(w, 0 * H + u, x, h) + p_i * c_prev, layer.clip));
    double fg;
    if (layer.input_forget) {
      fg = 1.0 - i;
    } else {
      fg = activate(f, clip_value(gate_input(w, 1 * H + u, x, h) + p_f * c_prev, layer.clip));
    }
    const double cand = activate(g, clip_value(gate_input(w, 2 * H + u, x, h), layer.clip));
    const double ct = fg * c_prev + i * cand;
    const double o = activate(f, clip_value(gate_input(w, 3 * H + u, x, h) + p_o * ct, layer.clip));
    c_new[static_cast<size_t>(u)] = ct;
    out[static_cast<size_t>(u)] = o * activate(hact, ct);
  }
  c = c_new;
  if (layer.proj_size > 0) {
    for (int64_t r = 0; r < layer.proj_size; ++r) {
      double sum = 0.0;
      for (int64_t u = 0; u < H; ++u) sum += at(w.Wp, r, u) * out[static_cast<size_t>(u)];
      h[static_cast<size_t>(r)] = sum;
    }
  } else {
    h = out;
  }
}

// One GRU step for one batch row. h (H) is updated in place.
void gru_step(const RecurrentLayer& layer, const DirectionWeights& w,
              const std::vector<Activation>& acts, const std::vector<double>& x,
              std::vector<double>& h) {
  const int64_t H = layer.hidden_size;
  const Activation& f = acts[0];
  const Activation& g = acts[1];
  std::vector<double> z(static_cast<size_t>(H)), r(static_cast<size_t>(H));
  for (int64_t u = 0; u < H; ++u) {
    z[static_cast<size_t>(u)] = activate(f, clip_value(gate_input(w, 0 * H + u, x, h), layer.clip));
    r[static_cast<size_t>(u)] = activate(f, clip_value(gate_input(w, 1 * H + u, x, h), layer.clip));
  }
  std::vector<double> r_h(static_cast<size_t>(H));  // r ⊙ h_{t-1}
  for (int64_t u = 0; u < H; ++u) r_h[static_cast<size_t>(u)] = r[static_cast<size_t>(u)] * h[static_cast<size_t>(u)];
  std::vector<double> h_new(static_cast<size_t>(H));
  for (int64_t u = 0; u < H; ++u) {
    double n_pre;
    if (layer.linear_before_reset) {
      n_pre = input_part(w, 2 * H + u, x) + r[static_cast<size_t>(u)] * recurrent_part(w, 2 * H + u, h);
    } else {
      n_pre = input_part(w, 2 * H + u, x) + recurrent_part(w, 2 * H + u, r_h);
    }
    const double n = activate(g, clip_value(n_pre, layer.clip));
    const double zu = z[static_cast<size_t>(u)];
    h_new[static_cast<size_t>(u)] = (1.0 - zu) * n + zu * h[static_cast<size_t>(u)];
  }
  h = h_new;
}

// One vanilla RNN step for one batch row.
void rnn_step(const RecurrentLayer& layer, const DirectionWeights& w,
              const std::vector<Activation>& acts, const std::vector<double>& x,
              std::vector<double>& h) {
  std::vector<double> h_new(static_cast<size_t>(layer.hidden_size));
  for (int64_t u = 0; u < layer.hidden_size; ++u) {
    h_new[static_cast<size_t>(u)] = activate(acts[0], clip_value(gate_input(w, u, x, h), layer.clip));
  }
  h = h_new;
}

Status size_error(const std::string& what, size_t got, int64_t want) {
  return {Errc::invalid_argument, "reference: " + what + " has " + std::to_string(got) +
                                      " values, expected " + std::to_string(want)};
}

}  // namespace

double activate(const Activation& act, double x) {
  const double a = static_cast<double>(act.alpha);
  const double b = static_cast<double>(act.beta);
  const std::string& n = act.name;
  if (n == "Sigmoid") return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x));
  if (n == "Tanh") return std::tanh(x);
  if (n == "Relu") return x > 0 ? x : 0.0;
  if (n == "HardSigmoid") return std::min(std::max(a * x + b, 0.0), 1.0);
  if (n == "LeakyRelu") return x >= 0 ? x : a * x;
  if (n == "ThresholdedRelu") return x > a ? x : 0.0;  // ONNX ThresholdedRelu and onnxruntime: >
  if (n == "ScaledTanh") return a * std::tanh(b * x);
  if (n == "Affine") return a * x + b;
  if (n == "Elu") return x >= 0 ? x : a * (std::exp(x) - 1.0);
  if (n == "Softsign") return x / (1.0 + std::fabs(x));
  if (n == "Softplus") return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
  throw std::invalid_argument("reference: unknown activation " + n);
}

std::vector<Activation> direction_activations(const RecurrentLayer& layer, int direction) {
  std::vector<Activation> defaults;
  switch (layer.cell) {
    case CellType::rnn: defaults = {{"Tanh", 0, 0}}; break;
    case CellType::lstm: defaults = {{"Sigmoid", 0, 0}, {"Tanh", 0, 0}, {"Tanh", 0, 0}}; break;
    case CellType::gru: defaults = {{"Sigmoid", 0, 0}, {"Tanh", 0, 0}}; break;
  }
  if (layer.activations.empty()) return defaults;
  const size_t count = defaults.size();
  return std::vector<Activation>(layer.activations.begin() + static_cast<std::ptrdiff_t>(direction * count),
                                 layer.activations.begin() + static_cast<std::ptrdiff_t>((direction + 1) * count));
}

Result<Output> run(const ModelSpec& spec, const Input& in) {
  const int64_t T = in.seq_len;
  const int64_t B = in.batch;
  const int64_t I = spec.layers.front().input_size;
  if (T < 0 || B < 0) return Status(Errc::invalid_argument, "reference: negative T or B");
  if (static_cast<int64_t>(in.x.size()) != T * B * I) return size_error("x", in.x.size(), T * B * I);

  // State widths: rows of h_n / c_n are as wide as the widest layer; narrower ones are padded.
  int64_t rows = 0, h_width = 0, c_width = 0;
  for (const RecurrentLayer& layer : spec.layers) {
    rows += direction_count(layer.direction);
    h_width = std::max(h_width, layer.output_size());
    if (layer.cell == CellType::lstm) c_width = std::max(c_width, layer.hidden_size);
  }
  if (!in.h0.empty() && static_cast<int64_t>(in.h0.size()) != rows * B * h_width) {
    return size_error("h0", in.h0.size(), rows * B * h_width);
  }
  if (!in.c0.empty() && static_cast<int64_t>(in.c0.size()) != rows * B * c_width) {
    return size_error("c0", in.c0.size(), rows * B * c_width);
  }
  std::vector<int64_t> len(static_cast<size_t>(B), T);
  if (!in.lengths.empty()) {
    if (static_cast<int64_t>(in.lengths.size()) != B) return size_error("lengths", in.lengths.size(), B);
    for (int64_t b = 0; b < B; ++b) {
      const int64_t L = in.lengths[static_cast<size_t>(b)];
      if (L < 0 || L > T) return Status(Errc::invalid_argument, "reference: length out of [0, T]");
      len[static_cast<size_t>(b)] = L;
    }
  }

  Output out;
  out.h_shape = {rows, B, h_width};
  out.h_n.assign(static_cast<size_t>(rows * B * h_width), 0.0);
  if (c_width > 0) {
    out.c_shape = {rows, B, c_width};
    out.c_n.assign(static_cast<size_t>(rows * B * c_width), 0.0);
  }

  // seq[(t*B + b)*width + k]: the current layer's input in time-major order.
  int64_t width = I;
  std::vector<double> seq(static_cast<size_t>(T * B * I));
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t b = 0; b < B; ++b) {
      const int64_t src = in.batch_first ? (b * T + t) * I : (t * B + b) * I;
      for (int64_t k = 0; k < I; ++k) {
        seq[static_cast<size_t>((t * B + b) * I + k)] = in.x[static_cast<size_t>(src + k)];
      }
    }
  }

  int64_t state_row = 0;
  for (const RecurrentLayer& layer : spec.layers) {
    const int dirs = direction_count(layer.direction);
    const int64_t H = layer.hidden_size;
    const int64_t Hout = layer.output_size();
    const int64_t out_width = dirs * Hout;
    std::vector<double> next(static_cast<size_t>(T * B * out_width), 0.0);  // padded steps stay 0
    for (int d = 0; d < dirs; ++d) {
      const bool reverse = layer.direction == Direction::reverse || d == 1;
      const DirectionWeights& w = layer.weights[static_cast<size_t>(d)];
      const std::vector<Activation> acts = direction_activations(layer, d);
      const int64_t row = state_row + d;
      for (int64_t b = 0; b < B; ++b) {
        std::vector<double> h(static_cast<size_t>(Hout), 0.0), c(static_cast<size_t>(H), 0.0);
        if (!in.h0.empty()) {
          for (int64_t k = 0; k < Hout; ++k) h[static_cast<size_t>(k)] = in.h0[static_cast<size_t>((row * B + b) * h_width + k)];
        }
        if (!in.c0.empty() && layer.cell == CellType::lstm) {
          for (int64_t k = 0; k < H; ++k) c[static_cast<size_t>(k)] = in.c0[static_cast<size_t>((row * B + b) * c_width + k)];
        }
        const int64_t L = len[static_cast<size_t>(b)];
        for (int64_t s = 0; s < L; ++s) {
          const int64_t t = reverse ? L - 1 - s : s;  // reverse reads the valid steps backwards
          const std::vector<double> x(seq.begin() + (t * B + b) * width, seq.begin() + (t * B + b + 1) * width);
          switch (layer.cell) {
            case CellType::lstm: lstm_step(layer, w, acts, x, h, c); break;
            case CellType::gru: gru_step(layer, w, acts, x, h); break;
            case CellType::rnn: rnn_step(layer, w, acts, x, h); break;
          }
          for (int64_t k = 0; k < Hout; ++k) {
            next[static_cast<size_t>((t * B + b) * out_width + d * Hout + k)] = h[static_cast<size_t>(k)];
          }
        }
        // Final state: after the sequence's own last step (h0/c0 when its length is 0).
        for (int64_t k = 0; k < Hout; ++k) out.h_n[static_cast<size_t>((row * B + b) * h_width + k)] = h[static_cast<size_t>(k)];
        if (layer.cell == CellType::lstm) {
          for (int64_t k = 0; k < H; ++k) out.c_n[static_cast<size_t>((row * B + b) * c_width + k)] = c[static_cast<size_t>(k)];
        }
      }
    }
    state_row += dirs;
    seq.swap(next);
    width = out_width;
  }

  // The head: y = W v + b (softmax optional) for every step, or for each sequence's last valid
  // step (a zero vector when its length is 0).
  if (!spec.head) {
    out.y.assign(static_cast<size_t>(T * B * width), 0.0);
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t b = 0; b < B; ++b) {
        const int64_t dst = in.batch_first ? (b * T + t) * width : (t * B + b) * width;
        for (int64_t k = 0; k < width; ++k) out.y[static_cast<size_t>(dst + k)] = seq[static_cast<size_t>((t * B + b) * width + k)];
      }
    }
    out.y_shape = in.batch_first ? std::vector<int64_t>{B, T, width} : std::vector<int64_t>{T, B, width};
    return out;
  }
  const DenseHead& head = *spec.head;
  const int64_t O = head.output_size;
  auto apply_head = [&](const std::vector<double>& v, double* y) {
    for (int64_t o = 0; o < O; ++o) {
      double sum = at(head.b, o);
      for (int64_t k = 0; k < width; ++k) sum += at(head.W, o, k) * v[static_cast<size_t>(k)];
      y[o] = sum;
    }
    if (head.softmax) {
      double mx = y[0];
      for (int64_t o = 1; o < O; ++o) mx = std::max(mx, y[o]);
      double total = 0.0;
      for (int64_t o = 0; o < O; ++o) total += std::exp(y[o] - mx);
      for (int64_t o = 0; o < O; ++o) y[o] = std::exp(y[o] - mx) / total;
    }
  };
  if (head.last_step_only) {
    out.y.assign(static_cast<size_t>(B * O), 0.0);
    for (int64_t b = 0; b < B; ++b) {
      const int64_t L = len[static_cast<size_t>(b)];
      std::vector<double> v(static_cast<size_t>(width), 0.0);
      if (L > 0) v.assign(seq.begin() + ((L - 1) * B + b) * width, seq.begin() + ((L - 1) * B + b + 1) * width);
      apply_head(v, out.y.data() + b * O);
    }
    out.y_shape = {B, O};
    return out;
  }
  out.y.assign(static_cast<size_t>(T * B * O), 0.0);
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t b = 0; b < B; ++b) {
      const std::vector<double> v(seq.begin() + (t * B + b) * width, seq.begin() + (t * B + b + 1) * width);
      const int64_t dst = in.batch_first ? (b * T + t) * O : (t * B + b) * O;
      apply_head(v, out.y.data() + dst);
    }
  }
  out.y_shape = in.batch_first ? std::vector<int64_t>{B, T, O} : std::vector<int64_t>{T, B, O};
  return out;
}

}  // namespace recur::reference
