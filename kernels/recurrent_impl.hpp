// The drivers and the table of the gate-panel kernels (kernels/recurrent.hpp): the fused step
// (panels outer, rows in blocks, the cell epilogue on the sums in registers), the input
// projection over panels, and the elementwise activations, written once over the ISA and
// instantiated once per ISA by recurrent_<isa>.cpp (each compiled with its own -m flags). The
// chain VecMath -> PanelMicroKernels -> CellEpilogues -> Recurrent is described in
// kernels/vec_math.hpp. Policy (single or paired panels, prefetch) arrives in StepArgs.
//
// Shapes (see recurrent.hpp): R panels [p][k][g][s][v]; gx rows (G*H) canonical gate blocks;
// h (B, K); c, h_next, z, rh (B, H).
#pragma once

#include <cstdint>

#include "kernels/cell_epilogues.hpp"

namespace recur::kernels {

// kRegs: vector registers the accumulators of one micro-kernel may use.
template <class Arch, int kRegs>
struct Recurrent : CellEpilogues<Arch> {
  using Cells = CellEpilogues<Arch>;
  using typename Cells::vf;
  using typename Cells::Lines;
  using typename Cells::Lstm;
  using typename Cells::GruLbr;
  using typename Cells::GruZr;
  using typename Cells::GruN;
  using typename Cells::Rnn;
  using Cells::V;
  using Cells::kLine;
  using Cells::load_n;
  using Cells::store_n;
  using Cells::sigmoid;
  using Cells::tanh;
  using Cells::sub_blocks;
  using Cells::row;
  using Cells::panel_words;
  using Cells::zero;

  // ---- fused step: panels outer (each stays in L2 across row blocks), rows in blocks of MR ----
  // MR rows [b0, b0 + MR) of NP panels from p, all of k in registers; R's panels bf16 or not
  // (a template argument: each kind of step compiles to a loop of its own). No blocking over k:
  // each row block streams its whole panel from L2 (or L3) with its sums in registers: at 6
  // rows, 256 bytes per 24 vector FMAs, well within L2's bandwidth, and no partial sums go
  // through memory (which k-chunks kept in L1 would need); the gates GEMM below likewise.
  template <class Cell, int MR, int NP, bool kBf16>
  static RECUR_KERNEL_INLINE void step_block(const StepArgs& a, int64_t p, int64_t b0,
                                             Lines ahead_w = {}, Lines ahead_r = {}) {
    constexpr int NV = Cell::G * sub_blocks(Cell::G);
    vf acc[MR][NP * NV];
    for (int r = 0; r < MR; ++r) {
      for (int q = 0; q < NP; ++q) Cells::template start<Cell>(a, b0 + r, p + q, acc[r] + q * NV);
    }
    if (Cells::template fuses<Cell>(a)) {
      const int64_t pfw = panel_words(a.w_shape);
      const float* x[MR];
      for (int r = 0; r < MR; ++r) x[r] = a.x[b0 + r];
      Cells::template accumulate<MR, NP, NV>(0, a.w_shape.K, a.W + p * pfw, pfw, x, acc, ahead_w);
      for (int r = 0; r < MR; ++r) {
        for (int q = 0; q < NP; ++q) Cells::template add_bias<Cell>(a, p + q, acc[r] + q * NV);
      }
    }
    const int64_t pf = panel_words(a.shape);
    const float* h[MR];
    for (int r = 0; r < MR; ++r) h[r] = a.h + (b0 + r) * a.ldh;
    if constexpr (kBf16) {
      Cells::template accumulate_bf16<MR, NP, NV>(0, a.shape.K, a.R + p * pf, pf, h, acc);
    } else {
      Cells::template accumulate<MR, NP, NV>(0, a.shape.K, a.R + p * pf, pf, h, acc, ahead_r);
    }
    for (int r = 0; r < MR; ++r) {
      for (int q = 0; q < NP; ++q) Cell::activate(acc[r] + q * NV);
    }
    for (int r = 0; r < MR; ++r) {
      for (int q = 0; q < NP; ++q) Cell::epilogue(a, b0 + r, p + q, acc[r] + q * NV);
    }
  }

  // A block of `rows` rows, 1 <= rows <= MR: the micro-kernel compiled for that row count.
  template <class Cell, int MR, bool kBf16>
  static void step_any_block(const StepArgs& a, int64_t p, int64_t b0, int64_t rows,
                             Lines ahead_w, Lines ahead_r) {
    if constexpr (MR >= 1) {
      if (rows == MR) return step_block<Cell, MR, 1, kBf16>(a, p, b0, ahead_w, ahead_r);
      step_any_block<Cell, MR - 1, kBf16>(a, p, b0, rows, ahead_w, ahead_r);
    }
  }

  // Part `part` of `parts` of the panel at `panel` (`bytes` long): the lines the row block
  // `part` of a panel requests of the next one.
  static RECUR_KERNEL_INLINE Lines slice(const float* panel, int64_t bytes, int64_t part, int64_t parts) {
    const int64_t lines = bytes / kLine;
    const int64_t per = (lines + parts - 1) / parts;
    const int64_t first = part * per;
    const int64_t n = first >= lines ? 0 : (lines - first < per ? lines - first : per);
    return {reinterpret_cast<const char*>(panel) + first * kLine, n};
  }

  // One row over panels [p0, p1), NP at a time, in the step's direction.
  template <class Cell, int NP, bool kBf16>
  static void sweep(const StepArgs& a, int64_t p0, int64_t p1) {
    if (!a.backward) {
      int64_t p = p0;
      for (; p + NP <= p1; p += NP) step_block<Cell, 1, NP, kBf16>(a, p, 0);
      if (p < p1) step_block<Cell, 1, 1, kBf16>(a, p, 0);
    } else {
      int64_t p = p1;
      for (; p - NP >= p0; p -= NP) step_block<Cell, 1, NP, kBf16>(a, p - NP, 0);
      if (p > p0) step_block<Cell, 1, 1, kBf16>(a, p0, 0);
    }
  }

  template <class Cell, bool kBf16>
  static void step_rows(const StepArgs& a, int64_t p0, int64_t p1) {
    constexpr int NV = Cell::G * sub_blocks(Cell::G);
    constexpr int MR = kRegs / NV > 6 ? 6 : (kRegs / NV < 1 ? 1 : kRegs / NV);
    // One row: the panels in pairs or, with StepArgs::single_panels, one at a time.
    if (a.B == 1) {
      if constexpr (!kBf16) {
        if (a.single_panels) return sweep<Cell, 1, false>(a, p0, p1);
      }
      return sweep<Cell, 2, kBf16>(a, p0, p1);
    }
    // Rows in blocks; with StepArgs::prefetch_next and more than one block, each block of a
    // panel also requests its share of the next panel's lines (fused, W's; fp32, R's) into L2,
    // one per k: the blocks after the first read the panel from L2 and leave the memory idle.
    // A single block streams its panel from memory anyway, and prefetching beside it competes
    // for the same bandwidth.
    const int64_t pf = panel_words(a.shape), pfw = a.W ? panel_words(a.w_shape) : 0;
    const int64_t fb = static_cast<int64_t>(sizeof(float));
    const int64_t blocks = (a.B + MR - 1) / MR;
    for (int64_t i = p0; i < p1; ++i) {
      const int64_t p = a.backward ? p1 - 1 - (i - p0) : i;
      const int64_t next = a.backward ? p - 1 : p + 1;
      const bool ahead = a.prefetch_next && blocks > 1 && next >= p0 && next < p1;
      int64_t part = 0;
      for (int64_t b = 0, n = 0; b < a.B; b += n, ++part) {
        n = Cells::template block_rows<MR>(a.B - b);
        const Lines ahead_w = ahead && a.W ? slice(a.W + next * pfw, pfw * fb, part, blocks) : Lines{};
        const Lines ahead_r = ahead ? slice(a.R + next * pf, pf * fb, part, blocks) : Lines{};
        step_any_block<Cell, MR, kBf16>(a, p, b, n, ahead_w, ahead_r);
      }
    }
  }

  template <class Cell>
  static void step(const StepArgs& a, int64_t p0, int64_t p1) {
    if (a.shape.bf16) return step_rows<Cell, true>(a, p0, p1);
    step_rows<Cell, false>(a, p0, p1);
  }

  // ---- input projection over panels ------------------------------------------------------
  template <int G, int MR>
  static RECUR_KERNEL_INLINE void gates_block(const PanelShape& sh, const float* panels, const RowsIn& A,
                          const float* bias, float* C, int64_t ldc, int64_t p, int64_t m0) {
    constexpr int S = sub_blocks(G);
    const float* x[MR];
    for (int r = 0; r < MR; ++r) x[r] = row(A, m0 + r);
    vf acc[MR][G * S];
    const int64_t pf = panel_words(sh);
    zero(acc);
    Cells::template accumulate<MR, 1, G * S>(0, sh.K, panels + p * pf, pf, x, acc);
    for (int r = 0; r < MR; ++r) gates_store<G>(sh, bias, C + (m0 + r) * ldc, p, acc[r]);
  }

  // One row of C: the G*S sums of panel p plus the bias, at their canonical columns.
  template <int G>
  static RECUR_KERNEL_INLINE void gates_store(const PanelShape& sh, const float* bias, float* c,
                                              int64_t p, const vf* acc) {
    constexpr int S = sub_blocks(G);
    for (int g = 0; g < G; ++g) {
      for (int s = 0; s < S; ++s) {
        const int64_t u0 = (p * S + s) * V;
        const int64_t left = sh.H - u0;
        if (left <= 0) break;
        const int64_t n = left < V ? left : V;
        const int64_t col = g * sh.H + u0;
        const vf bv = bias ? load_n(bias + col, n) : vf(0.0f);
        store_n(c + col, acc[g * S + s] + bv, n);
      }
    }
  }

  // A block of `rows` rows, 1 <= rows <= MR (as step_any_block).
  template <int G, int MR>
  static void gates_any_block(const PanelShape& sh, const float* panels, const RowsIn& A,
                              const float* bias, float* C, int64_t ldc, int64_t p, int64_t m0,
                              int64_t rows) {
    if constexpr (MR >= 1) {
      if (rows == MR) return gates_block<G, MR>(sh, panels, A, bias, C, ldc, p, m0);
      gates_any_block<G, MR - 1>(sh, panels, A, bias, C, ldc, p, m0, rows);
    }
  }

  template <int G>
  static void gates_g(const PanelShape& sh, const float* panels, int64_t M, const RowsIn& A,
                      const float* bias, float* C, int64_t ldc, int64_t p0, int64_t p1) {
    constexpr int NV = G * sub_blocks(G);
    constexpr int MR = kRegs / NV > 6 ? 6 : (kRegs / NV < 1 ? 1 : kRegs / NV);
    for (int64_t p = p0; p < p1; ++p) {
      for (int64_t m = 0, n = 0; m < M; m += n) {
        n = Cells::template block_rows<MR>(M - m);
        gates_any_block<G, MR>(sh, panels, A, bias, C, ldc, p, m, n);
      }
    }
  }

  static void gates(const PanelShape& sh, const float* panels, int64_t M, RowsIn A,
                    const float* bias, float* C, int64_t ldc, int64_t p0, int64_t p1) {
    switch (sh.G) {
      case 1: return gates_g<1>(sh, panels, M, A, bias, C, ldc, p0, p1);
      case 2: return gates_g<2>(sh, panels, M, A, bias, C, ldc, p0, p1);
      case 3: return gates_g<3>(sh, panels, M, A, bias, C, ldc, p0, p1);
      default: return gates_g<4>(sh, panels, M, A, bias, C, ldc, p0, p1);
    }
  }

  // ---- elementwise activations over arrays (tests, generic paths) --------------------------
  template <vf (*F)(vf)>
  static void apply(int64_t n, const float* x, float* y) {
    int64_t i = 0;
    for (; i + V <= n; i += V) F(vf::load_unaligned(x + i)).store_unaligned(y + i);
    if (i < n) store_n(y + i, F(load_n(x + i, n - i)), n - i);
  }

  static RecurrentKernels table(const char* name) {
    return RecurrentKernels{
        name,          V,
        step<Lstm>,    step<GruLbr>,
        step<GruZr>,   step<GruN>,
        step<Rnn>,     gates,
        apply<&Cells::sigmoid>, apply<&Cells::tanh>,
    };
  }
};

}  // namespace recur::kernels
