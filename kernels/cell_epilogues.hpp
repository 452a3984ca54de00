// The cell epilogues of the fused steps: for one row and one panel, where each gate's sums
// start (gx, or 0), and the cell update on the activated sums (lstm, gru with and without
// linear_before_reset, rnn). Part of the chain described in kernels/vec_math.hpp.
#pragma once

#include "kernels/panel_microkernels.hpp"

namespace recur::kernels {

template <class Arch>
struct CellEpilogues : PanelMicroKernels<Arch> {
  using Micro = PanelMicroKernels<Arch>;
  using typename Micro::vf;
  using Micro::V;
  using Micro::copy_n;
  using Micro::load_n;
  using Micro::sigmoid;
  using Micro::store_n;
  using Micro::sub_blocks;
  using Micro::tanh;

  // ---- cells: one row b, one panel p, its G*S accumulators -----------------------------------
  // Units of sub-block s of panel p: [u0, u0 + n), n <= V (0 past H).
  struct Units {
    int64_t u0, n;
  };
  static RECUR_KERNEL_INLINE Units units(const StepArgs& a, int64_t p, int S, int s) {
    const int64_t u0 = (p * S + s) * V;
    const int64_t left = a.shape.H - u0;
    return {u0, left < 0 ? 0 : (left < V ? left : V)};
  }
  // A row that does not take this step keeps its state on these units.
  static RECUR_KERNEL_INLINE void keep(const StepArgs& a, int64_t b, Units u) {
    copy_n(a.h_next + b * a.ldh_next + u.u0, a.h_prev + b * a.ldh_prev + u.u0, u.n);
  }

  // Whether this step computes x · W itself (StepArgs::W; lstm and rnn only).
  template <class Cell>
  static RECUR_KERNEL_INLINE bool fuses(const StepArgs& a) {
    return Cell::kFusable && a.W != nullptr;
  }
  // The sums a row starts from: its gx for the first Cell::kFromGx gates (gx gate
  // Cell::kGxFirst on); 0 for the others, for rows that do not take the step, and when the step
  // computes x · W itself (those products come first).
  template <class Cell>
  static RECUR_KERNEL_INLINE void start(const StepArgs& a, int64_t b, int64_t p, vf* acc) {
    constexpr int S = sub_blocks(Cell::G);
    const float* gx = fuses<Cell>(a) ? nullptr : a.gx[b];
    for (int g = 0; g < Cell::G; ++g) {
      for (int s = 0; s < S; ++s) {
        const Units u = units(a, p, S, s);
        acc[g * S + s] = gx && g < Cell::kFromGx && u.n > 0
                             ? load_n(gx + (Cell::kGxFirst + g) * a.shape.H + u.u0, u.n)
                             : vf(0.0f);
      }
    }
  }
  // Fused projection: x · W^T is in the sums; the bias goes in before the recurrent product.
  template <class Cell>
  static RECUR_KERNEL_INLINE void add_bias(const StepArgs& a, int64_t p, vf* acc) {
    constexpr int S = sub_blocks(Cell::G);
    for (int g = 0; g < Cell::G; ++g) {
      for (int s = 0; s < S; ++s) {
        const Units u = units(a, p, S, s);
        if (u.n > 0) acc[g * S + s] += load_n(a.bias + g * a.shape.H + u.u0, u.n);
      }
    }
  }

  // Each cell: activate(acc) applies the activations that need nothing but the sums, in place;
  // epilogue(a, b, p, acc) the rest of the update of row b on panel p. A block's rows are all
  // activated before any row's epilogue: each row's chain (gates -> c -> tanh(c) -> h) is long,
  // and the rows' activations, independent, then fill the pipelines.
  struct NoActivation {
    static RECUR_KERNEL_INLINE void activate(vf*) {}
  };
  // z and r of gru, the first 2 S sums.
  template <int S>
  static RECUR_KERNEL_INLINE void sigmoid_zr(vf* acc) {
    for (int j = 0; j < 2 * S; ++j) acc[j] = sigmoid(acc[j]);
  }

  struct Lstm {
    static constexpr int G = 4, kFromGx = 4, kGxFirst = 0;
    static constexpr bool kFusable = true;
    static RECUR_KERNEL_INLINE void activate(vf* acc) {
      acc[0] = sigmoid(acc[0]);
      acc[1] = sigmoid(acc[1]);
      acc[2] = tanh(acc[2]);
      acc[3] = sigmoid(acc[3]);
    }
    static RECUR_KERNEL_INLINE void epilogue(const StepArgs& a, int64_t b, int64_t p, const vf* acc) {
      const Units u = units(a, p, 1, 0);
      if (u.n <= 0) return;
      if (!a.gx[b]) return keep(a, b, u);
      const vf i = acc[0], f = acc[1], g = acc[2], o = acc[3];
      float* c = a.c + b * a.ldc + u.u0;
      const vf c_new = xsimd::fma(f, load_n(c, u.n), i * g);
      store_n(c, c_new, u.n);
      store_n(a.h_next + b * a.ldh_next + u.u0, o * tanh(c_new), u.n);
    }
  };

  // z, r start from gx; n starts from 0: n = tanh(gx_n + r (R_n h + Rb_n)).
  struct GruLbr {
    static constexpr int G = 3, S = 2, kFromGx = 2, kGxFirst = 0;
    static constexpr bool kFusable = false;
    static RECUR_KERNEL_INLINE void activate(vf* acc) { sigmoid_zr<S>(acc); }
    static RECUR_KERNEL_INLINE void epilogue(const StepArgs& a, int64_t b, int64_t p, const vf* acc) {
      const int64_t H = a.shape.H;
      for (int s = 0; s < S; ++s) {
        const Units u = units(a, p, S, s);
        if (u.n <= 0) return;
        const float* gx = a.gx[b];
        if (!gx) {
          keep(a, b, u);
          continue;
        }
        const vf z = acc[0 * S + s], r = acc[1 * S + s];
        const vf rec_n = acc[2 * S + s] + load_n(a.bias_n + u.u0, u.n);
        const vf n = tanh(xsimd::fma(r, rec_n, load_n(gx + 2 * H + u.u0, u.n)));
        const vf hp = load_n(a.h_prev + b * a.ldh_prev + u.u0, u.n);
        store_n(a.h_next + b * a.ldh_next + u.u0, xsimd::fma(z, hp, (vf(1.0f) - z) * n), u.n);
      }
    }
  };

  struct GruZr {
    static constexpr int G = 2, S = 2, kFromGx = 2, kGxFirst = 0;
    static constexpr bool kFusable = false;
    static RECUR_KERNEL_INLINE void activate(vf* acc) { sigmoid_zr<S>(acc); }
    static RECUR_KERNEL_INLINE void epilogue(const StepArgs& a, int64_t b, int64_t p, const vf* acc) {
      if (!a.gx[b]) return;  // gru_n keeps the state of this row
      for (int s = 0; s < S; ++s) {
        const Units u = units(a, p, S, s);
        if (u.n <= 0) return;
        const vf z = acc[0 * S + s], r = acc[1 * S + s];
        const vf hp = load_n(a.h_prev + b * a.ldh_prev + u.u0, u.n);
        store_n(a.z + b * a.ldz + u.u0, z, u.n);
        store_n(a.rh + b * a.ldz + u.u0, r * hp, u.n);
      }
    }
  };

  // The n gate of the two-phase gru: starts from gx_n (gx gate 2).
  struct GruN : NoActivation {
    static constexpr int G = 1, S = 4, kFromGx = 1, kGxFirst = 2;
    static constexpr bool kFusable = false;
    static RECUR_KERNEL_INLINE void epilogue(const StepArgs& a, int64_t b, int64_t p, const vf* acc) {
      for (int s = 0; s < S; ++s) {
        const Units u = units(a, p, S, s);
        if (u.n <= 0) return;
        if (!a.gx[b]) {
          keep(a, b, u);
          continue;
        }
        const vf n = tanh(acc[s]);
        const vf z = load_n(a.z + b * a.ldz + u.u0, u.n);
        const vf hp = load_n(a.h_prev + b * a.ldh_prev + u.u0, u.n);
        store_n(a.h_next + b * a.ldh_next + u.u0, xsimd::fma(z, hp, (vf(1.0f) - z) * n), u.n);
      }
    }
  };

  struct Rnn : NoActivation {
    static constexpr int G = 1, S = 4, kFromGx = 1, kGxFirst = 0;
    static constexpr bool kFusable = true;
    static RECUR_KERNEL_INLINE void epilogue(const StepArgs& a, int64_t b, int64_t p, const vf* acc) {
      for (int s = 0; s < S; ++s) {
        const Units u = units(a, p, S, s);
        if (u.n <= 0) return;
        if (!a.gx[b]) {
          keep(a, b, u);
          continue;
        }
        store_n(a.h_next + b * a.ldh_next + u.u0, a.relu ? xsimd::max(acc[s], vf(0.0f)) : tanh(acc[s]), u.n);
      }
    }
  };
};

}  // namespace recur::kernels
