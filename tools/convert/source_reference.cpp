// fp64 forward pass of recurrent layers kept in their source layout (see source_reference.hpp).
// Plain loops, one batch element and one step at a time: the oracle, not the fast path.
#include "tools/convert/source_reference.hpp"

#include <algorithm>
#include <cmath>

#include "formats/activations.hpp"
#include "tools/convert/util.hpp"

namespace recur::convert {

double apply_activation(const Activation& act, double x) {
  const double a = act.alpha, b = act.beta;
  const ActivationInfo* info = find_activation(act.name);
  if (!info) return std::nan("");
  switch (info->fn) {
    case ActivationFn::sigmoid: return 1.0 / (1.0 + std::exp(-x));
    case ActivationFn::tanh: return std::tanh(x);
    case ActivationFn::relu: return x > 0 ? x : 0.0;
    case ActivationFn::hard_sigmoid: return std::max(0.0, std::min(1.0, a * x + b));
    case ActivationFn::leaky_relu: return x >= 0 ? x : a * x;
    case ActivationFn::thresholded_relu: return x > a ? x : 0.0;
    case ActivationFn::scaled_tanh: return a * std::tanh(b * x);
    case ActivationFn::affine: return a * x + b;
    case ActivationFn::elu: return x >= 0 ? x : a * (std::exp(x) - 1.0);
    case ActivationFn::softsign: return x / (1.0 + std::fabs(x));
    case ActivationFn::softplus: return std::log1p(std::exp(x));
  }
  return std::nan("");
}

namespace {

std::vector<Activation> default_activations(CellType cell) {
  auto make = [](const char* name) {
    Activation a;
    activation_with_defaults(name, a);
    return a;
  };
  if (cell == CellType::rnn) return {make("Tanh")};
  if (cell == CellType::gru) return {make("Sigmoid"), make("Tanh")};
  return {make("Sigmoid"), make("Tanh"), make("Tanh")};
}

struct DirectionRunner {
  const NativeLayer& L;
  const NativeDirection& D;
  std::vector<Activation> acts;  // this direction's activations
  int64_t I, H, Hout;

  // W row `gate`*H + j times the vector v (length I).
  double w_dot(const Tensor& M, int64_t cols, char gate, int64_t j, const double* v, int64_t n) const {
    int64_t row = static_cast<int64_t>(L.gate_order.find(gate)) * H + j;
    double s = 0;
    if (!L.transposed) {
      for (int64_t k = 0; k < n; ++k) s += double(M.data[row * cols + k]) * v[k];
    } else {
      int64_t width = static_cast<int64_t>(L.gate_order.size()) * H;  // (n, G*H)
      for (int64_t k = 0; k < n; ++k) s += double(M.data[k * width + row]) * v[k];
    }
    return s;
  }
  double bias(const Tensor& b, char gate, int64_t j) const {
    if (b.data.empty()) return 0.0;
    return b.data[static_cast<int64_t>(L.gate_order.find(gate)) * H + j];
  }
  double clip(double v) const { return L.clip > 0 ? std::max(-double(L.clip), std::min(double(L.clip), v)) : v; }
  double peep(char gate, int64_t j, double c) const {
    if (D.P.data.empty()) return 0.0;
    return D.P.data[static_cast<int64_t>(L.peephole_order.find(gate)) * H + j] * c;
  }

  // One step for one batch element. x (I), h (Hout) in/out, c (H) in/out.
  void step(const double* x, std::vector<double>& h, std::vector<double>& c) const {
    std::vector<double> hn(static_cast<size_t>(H));
    if (L.lstm_v1) {
      // Linear over [x_t, h_t]: weight (H, I+H), x part first.
      std::vector<double> xh(x, x + I);
      xh.insert(xh.end(), h.begin(), h.end());
      auto lin = [&](int g, int64_t j) {
        double s = D.v1_b[g].data[j];
        for (int64_t k = 0; k < I + H; ++k) s += double(D.v1_W[g].data[j * (I + H) + k]) * xh[k];
        return s;
      };
      for (int64_t j = 0; j < H; ++j) {
        double f = 1.0 / (1.0 + std::exp(-lin(0, j)));
        double i = 1.0 / (1.0 + std::exp(-lin(1, j)));
        double g = std::tanh(lin(2, j));
        double o = 1.0 / (1.0 + std::exp(-lin(3, j)));
        c[j] = f * c[j] + i * g;
        hn[j] = o * std::tanh(c[j]);
      }
      h = hn;
      return;
    }
    auto pre = [&](char gate, int64_t j) {
      return w_dot(D.W, I, gate, j, x, I) + w_dot(D.R, Hout, gate, j, h.data(), Hout) +
             bias(D.Wb, gate, j) + bias(D.Rb, gate, j);
    };
    if (L.cell == CellType::rnn) {
      for (int64_t j = 0; j < H; ++j) hn[j] = apply_activation(acts[0], clip(pre('h', j)));
      h = hn;
      return;
    }
    if (L.cell == CellType::gru) {
      // z and r for every unit first: n needs r * h over all units when linear_before_reset=0.
      std::vector<double> z(static_cast<size_t>(H)), r(static_cast<size_t>(H)), rh(static_cast<size_t>(Hout));
      for (int64_t j = 0; j < H; ++j) {
        z[j] = apply_activation(acts[0], clip(pre('z', j)));
        r[j] = apply_activation(acts[0], clip(pre('r', j)));
      }
      for (int64_t k = 0; k < Hout; ++k) rh[k] = r[k] * h[k];
      for (int64_t j = 0; j < H; ++j) {
        double n;
        if (L.linear_before_reset) {
          double rec = w_dot(D.R, Hout, 'n', j, h.data(), Hout) + bias(D.Rb, 'n', j);
          n = w_dot(D.W, I, 'n', j, x, I) + bias(D.Wb, 'n', j) + r[j] * rec;
        } else {
          n = w_dot(D.W, I, 'n', j, x, I) + w_dot(D.R, Hout, 'n', j, rh.data(), Hout) + bias(D.Wb, 'n', j) +
              bias(D.Rb, 'n', j);
        }
        n = apply_activation(acts[1], clip(n));
        hn[j] = (1.0 - z[j]) * n + z[j] * h[j];
      }
      h = hn;
      return;
    }
    // lstm
    std::vector<double> full(static_cast<size_t>(H));
    for (int64_t j = 0; j < H; ++j) {
      double i = apply_activation(acts[0], clip(pre('i', j) + peep('i', j, c[j])));
      double f = L.input_forget ? 1.0 - i : apply_activation(acts[0], clip(pre('f', j) + peep('f', j, c[j])));
      double g = apply_activation(acts[1], clip(pre('g', j)));
      double cn = f * c[j] + i * g;
      double o = apply_activation(acts[0], clip(pre('o', j) + peep('o', j, cn)));
      full[j] = o * apply_activation(acts[2], cn);
      hn[j] = cn;  // new cell state kept here until all units are done
    }
    c = hn;
    if (D.Wp.data.empty()) {
      h = full;
    } else {
      std::vector<double> p(static_cast<size_t>(Hout));
      for (int64_t r = 0; r < Hout; ++r) {
        double s = 0;
        for (int64_t k = 0; k < H; ++k) s += double(D.Wp.data[r * H + k]) * full[k];
        p[r] = s;
      }
      h = p;
    }
  }
};

}  // namespace

Result<std::vector<double>> evaluate_native(const NativeModel& model, const std::vector<double>& x,
                                            int64_t T, int64_t B) {
  if (model.layers.empty()) return fail(Errc::invalid_model, "reference: no layers");
  int64_t I0 = model.layers.front().input_size;
  if (static_cast<int64_t>(x.size()) != T * B * I0)
    return fail(Errc::invalid_argument, "reference: x has the wrong size");
  // seq: (T, B, F) time-major working layout.
  int64_t F = I0;
  std::vector<double> seq(x.size());
  for (int64_t t = 0; t < T; ++t)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t k = 0; k < F; ++k)
        seq[(t * B + b) * F + k] = model.batch_first ? x[(b * T + t) * F + k] : x[(t * B + b) * F + k];

  for (const NativeLayer& L : model.layers) {
    int64_t Hout = L.proj_size > 0 ? L.proj_size : L.hidden_size;
    int64_t nd = direction_count(L.direction);
    int64_t out_w = nd * Hout;
    std::vector<double> out(static_cast<size_t>(T * B * out_w));
    int acount = activation_count(L.cell);
    for (int64_t d = 0; d < nd; ++d) {
      DirectionRunner run{L, L.dirs[d], {}, L.input_size, L.hidden_size, Hout};
      if (L.activations.empty()) {
        run.acts = default_activations(L.cell);
      } else {
        run.acts.assign(L.activations.begin() + d * acount, L.activations.begin() + (d + 1) * acount);
      }
      bool reverse = L.direction == Direction::reverse || d == 1;
      for (int64_t b = 0; b < B; ++b) {
        std::vector<double> h(static_cast<size_t>(Hout), 0.0), c(static_cast<size_t>(L.hidden_size), 0.0);
        for (int64_t s = 0; s < T; ++s) {
          int64_t t = reverse ? T - 1 - s : s;
          run.step(&seq[(t * B + b) * F], h, c);
          std::copy(h.begin(), h.end(), out.begin() + (t * B + b) * out_w + d * Hout);
        }
      }
    }
    seq.swap(out);
    F = out_w;
  }

  int64_t steps = T;
  if (model.head) {
    const NativeHead& hd = *model.head;
    int64_t in = hd.transposed ? hd.W.shape[0] : hd.W.shape[1];
    int64_t O = hd.transposed ? hd.W.shape[1] : hd.W.shape[0];
    if (in != F) return fail(Errc::invalid_model, "reference: head input width mismatch");
    int64_t t0 = hd.last_step ? T - 1 : 0;
    steps = T - t0;
    std::vector<double> y(static_cast<size_t>(steps * B * O));
    for (int64_t t = t0; t < T; ++t)
      for (int64_t b = 0; b < B; ++b) {
        double* yo = &y[((t - t0) * B + b) * O];
        const double* hv = &seq[(t * B + b) * F];
        for (int64_t o = 0; o < O; ++o) {
          double s = hd.b.data.empty() ? 0.0 : hd.b.data[o];
          for (int64_t k = 0; k < F; ++k)
            s += double(hd.transposed ? hd.W.data[k * O + o] : hd.W.data[o * F + k]) * hv[k];
          yo[o] = s;
        }
        if (hd.softmax) {
          double m = *std::max_element(yo, yo + O), sum = 0;
          for (int64_t o = 0; o < O; ++o) sum += (yo[o] = std::exp(yo[o] - m));
          for (int64_t o = 0; o < O; ++o) yo[o] /= sum;
        }
      }
    seq.swap(y);
    F = O;
    if (hd.last_step) return seq;  // (B, O)
  }
  if (!model.batch_first) return seq;
  std::vector<double> y(seq.size());
  for (int64_t t = 0; t < steps; ++t)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t k = 0; k < F; ++k) y[(b * steps + t) * F + k] = seq[(t * B + b) * F + k];
  return y;
}

}  // namespace recur::convert
