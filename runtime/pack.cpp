// LayerPacker and pack_head: every packed layout of runtime/model_impl.hpp is written here.
#include "runtime/pack.hpp"

#include <algorithm>
#include <string>

namespace recur {

namespace {

using kernels::ActKind;
using kernels::PanelShape;

size_t sz(int64_t n) { return static_cast<size_t>(n); }

// W (N, K) canonical -> KernelTable::pack's layout.
std::vector<float> pack_matrix(const kernels::KernelTable& k, const Tensor& W) {
  const int64_t N = W.shape[0];
  const int64_t K = W.shape[1];
  std::vector<float> out(sz(N * K));
  k.pack(N, K, W.data.data(), out.data());
  return out;
}

// W with every element rounded to the nearest bfloat16 (LoadOptions::recurrent_weights), as fp32.
Tensor rounded_to_bf16(const Tensor& W) {
  Tensor out = W;
  for (float& x : out.data) x = kernels::from_bf16(kernels::to_bf16(x));
  return out;
}

// A weight of R that bfloat16 cannot hold: it would round to infinity. rows: R's rows
// [row0, row0 + count), K floats each.
Status check_bf16_range(size_t layer, int dir, int64_t row0, int64_t count, int64_t K, const float* rows) {
  const int64_t n = count * K;
  const int64_t i = kernels::first_bf16_overflow(rows, n);
  if (i == n) return {};
  return Status(Errc::non_finite, "layer " + std::to_string(layer) + " direction " + std::to_string(dir) +
                                      ": recurrent weight (" + std::to_string(row0 + i / K) + ", " +
                                      std::to_string(i % K) + ") = " + std::to_string(rows[i]) +
                                      " rounds to infinity in bfloat16 (recurrent_weights = bf16)");
}

AlignedFloats panel_storage_for(const PanelShape& shape) {
  AlignedFloats a(shape.floats());
  kernels::zero_panel_padding(shape, a.data());
  return a;
}

// Gate panels of one direction, allocated with their padding zeroed; biases still empty.
PanelWeights alloc_panels(const kernels::RecurrentKernels& k, const PackedLayer& l) {
  PanelWeights p;
  p.w_shape = k.shape(l.G, l.H, l.I);
  p.r_shape = k.shape(l.gru_two_phase() ? 2 : l.G, l.H, l.H, l.recurrent_bf16);
  p.n_shape = k.shape(1, l.H, l.H, l.recurrent_bf16);
  p.W = panel_storage_for(p.w_shape);
  p.R = panel_storage_for(p.r_shape);
  if (l.gru_two_phase()) p.Rn = panel_storage_for(p.n_shape);
  return p;
}

// Rows [row0, row0 + n) of the canonical R into its panels: for gru without
// linear_before_reset rows [0, 2H) (z, r) and [2H, 3H) (n) go to separate panels.
void pack_r_rows(const PackedLayer& l, PanelWeights& p, int64_t row0, int64_t n, const float* rows) {
  if (!l.gru_two_phase()) return kernels::pack_panel_rows(p.r_shape, row0, n, rows, p.R.data());
  const int64_t zr_end = 2 * l.H;
  if (row0 < zr_end) {
    const int64_t m = std::min(n, zr_end - row0);
    kernels::pack_panel_rows(p.r_shape, row0, m, rows, p.R.data());
    row0 += m;
    rows += m * l.H;
    n -= m;
  }
  if (n > 0) kernels::pack_panel_rows(p.n_shape, row0 - zr_end, n, rows, p.Rn.data());
}

// The biases that are simply added, folded: Wb + Rb, except Rb_n under linear_before_reset.
void fold_biases(const PackedLayer& l, const DirectionWeights& w, PanelWeights& p) {
  const int64_t G = l.G, H = l.H;
  const bool keep_rbn = l.cell == CellType::gru && l.linear_before_reset;
  p.bias.assign(sz(G * H), 0.0f);
  for (int64_t j = 0; j < G * H; ++j) {
    p.bias[sz(j)] = w.Wb.data[sz(j)] + (keep_rbn && j >= 2 * H ? 0.0f : w.Rb.data[sz(j)]);
  }
  if (keep_rbn) p.rb_n.assign(w.Rb.data.begin() + 2 * H, w.Rb.data.end());
}

}  // namespace

bool gate_panels_apply(const kernels::KernelTable& k, const RecurrentLayer& layer,
                       const std::vector<PackedDirection>& dirs) {
  if (!k.panels || layer.clip > 0.0f) return false;
  for (const PackedDirection& d : dirs) {
    switch (layer.cell) {
      case CellType::lstm:
        if (layer.peepholes || layer.proj_size > 0 || layer.input_forget) return false;
        if (d.f.kind != ActKind::sigmoid || d.g.kind != ActKind::tanh || d.h.kind != ActKind::tanh) return false;
        break;
      case CellType::gru:
        if (d.f.kind != ActKind::sigmoid || d.g.kind != ActKind::tanh) return false;
        break;
      case CellType::rnn:
        if (d.f.kind != ActKind::tanh && d.f.kind != ActKind::relu) return false;
        break;
    }
  }
  return true;
}

LayerPacker::LayerPacker(const kernels::KernelTable& k, size_t index, PackedLayer& layer)
    : k_(&k), index_(index), layer_(&layer) {
  for (PackedDirection& pd : layer.dir) {
    if (layer.gate_panels) {
      pd.weights = alloc_panels(*k.panels, layer);
    } else {
      pd.weights = GenericWeights{};
    }
  }
}

Status LayerPacker::rows(int d, Matrix which, int64_t row0, int64_t n, const float* data) {
  PackedLayer& l = *layer_;
  PanelWeights& p = std::get<PanelWeights>(l.dir[sz(d)].weights);
  if (which == Matrix::W) {
    kernels::pack_panel_rows(p.w_shape, row0, n, data, p.W.data());
  } else {
    if (l.recurrent_bf16) RECUR_TRY(check_bf16_range(index_, d, row0, n, l.H, data));
    pack_r_rows(l, p, row0, n, data);
  }
  taken_[d][static_cast<int>(which)] += n;
  return {};
}

Status LayerPacker::finish(const std::vector<DirectionWeights>& weights) {
  PackedLayer& l = *layer_;
  for (int d = 0; d < l.dirs; ++d) {
    const DirectionWeights& w = weights[sz(d)];
    if (l.gate_panels) {
      for (Matrix which : {Matrix::W, Matrix::R}) {
        const Tensor& t = which == Matrix::W ? w.W : w.R;
        const int64_t taken = taken_[d][static_cast<int>(which)];
        if (taken == 0) RECUR_TRY(rows(d, which, 0, t.shape[0], t.data.data()));
        if (taken != 0 && taken != t.shape[0]) {
          return {Errc::internal, "layer " + std::to_string(index_) + ": a weight matrix was packed in part"};
        }
      }
      fold_biases(l, w, std::get<PanelWeights>(l.dir[sz(d)].weights));
      continue;
    }
    GenericWeights& g = std::get<GenericWeights>(l.dir[sz(d)].weights);
    g.W = pack_matrix(*k_, w.W);
    if (l.recurrent_bf16) {
      RECUR_TRY(check_bf16_range(index_, d, 0, w.R.shape[0], w.R.shape[1], w.R.data.data()));
      g.R = pack_matrix(*k_, rounded_to_bf16(w.R));
    } else {
      g.R = pack_matrix(*k_, w.R);
    }
    g.Wb = w.Wb.data;
    g.Rb = w.Rb.data;
    g.P = w.P.data;
    if (!w.Wp.empty()) g.Wp = pack_matrix(*k_, w.Wp);
  }
  return {};
}

void LayerPacker::panel_storage(std::vector<AlignedFloats*>& out) {
  if (!layer_->gate_panels) return;
  for (PackedDirection& pd : layer_->dir) {
    PanelWeights& p = std::get<PanelWeights>(pd.weights);
    for (AlignedFloats* a : {&p.W, &p.R, &p.Rn}) out.push_back(a);
  }
}

PackedHead pack_head(const kernels::KernelTable& k, const DenseHead& head) {
  PackedHead h;
  h.in = head.input_size;
  h.out = head.output_size;
  h.softmax = head.softmax;
  h.last_step_only = head.last_step_only;
  h.W = pack_matrix(k, head.W);
  h.b = head.b.data;
  return h;
}

}  // namespace recur
