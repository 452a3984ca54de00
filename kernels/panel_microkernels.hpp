// The panel micro-kernels: the streaming product of MR rows with NP gate panels, fp32 or bf16,
// kept in registers (kernels/recurrent.hpp has the panel layouts), and the row blocking. Part of
// the chain described in kernels/vec_math.hpp.
#pragma once

#include "kernels/recurrent.hpp"
#include "kernels/vec_math.hpp"

namespace recur::kernels {

template <class Arch>
struct PanelMicroKernels : VecMath<Arch> {
  using Math = VecMath<Arch>;
  using typename Math::vf;
  using typename Math::vi;
  using Math::V;

  // 32-bit words per panel of `s` (PanelShape::panel_floats, computed here: see vec_math.hpp).
  static RECUR_KERNEL_INLINE int64_t panel_words(const PanelShape& s) {
    return (s.bf16 ? (s.K + 1) / 2 : s.K) * s.G * s.S * s.V;
  }

  static constexpr int sub_blocks(int G) { return G >= 4 ? 1 : (G >= 2 ? 2 : 4); }

  // Row i of a GEMM input.
  static RECUR_KERNEL_INLINE const float* row(const RowsIn& A, int64_t i) {
    return A.ptr ? A.ptr[i] : A.base + i * A.ld;
  }

  // ---- the streaming product -------------------------------------------------------------
  static constexpr int64_t kLine = 64;  // bytes of a cache line
  // n cache lines from p.
  struct Lines {
    const char* p = nullptr;
    int64_t n = 0;
  };
  // acc[r][q*NV + j] += sum over k in [k0, k1), in k order, of h[r][k] * panel_q[k][j] for MR
  // rows and NP consecutive panels of NV vectors per k (panel q at panels + q * panel_floats).
  // While it runs, `ahead` (if any) has the first of its lines requested into L2, one per k.
  template <int MR, int NP, int NV>
  static RECUR_KERNEL_INLINE void accumulate(int64_t k0, int64_t k1, const float* panels,
                                             int64_t panel_floats, const float* const (&h)[MR],
                                             vf (&acc)[MR][NP * NV], Lines ahead = {}) {
    // Registers: MR*NP*NV accumulators, plus either every weight vector of a k and one
    // broadcast at a time (several rows, when that fits with a register to spare: on AVX-512
    // the other order leaves the allocator one register from spilling an accumulator), or every
    // row's broadcast and one weight vector at a time (16-register ISAs; one row, where each
    // weight vector folds into its FMA as a memory operand). The order of each sum is the same
    // either way.
    constexpr int kVecRegs = V == 16 ? 32 : 16;
    if constexpr (MR > 1 && MR * NP * NV + NP * NV + 1 < kVecRegs) {
      for (int64_t k = k0; k < k1; ++k) {
        vf w[NP * NV];
        for (int q = 0; q < NP; ++q) {
          for (int j = 0; j < NV; ++j) w[q * NV + j] = vf::load_aligned(panels + q * panel_floats + k * (NV * V) + j * V);
        }
        for (int r = 0; r < MR; ++r) {
          const vf hk(h[r][k]);
          for (int j = 0; j < NP * NV; ++j) acc[r][j] = xsimd::fma(hk, w[j], acc[r][j]);
        }
        if (k - k0 < ahead.n) __builtin_prefetch(ahead.p + (k - k0) * kLine, 0, 2);
      }
    } else {
      for (int64_t k = k0; k < k1; ++k) {
        vf hk[MR];
        for (int r = 0; r < MR; ++r) hk[r] = vf(h[r][k]);
        for (int q = 0; q < NP; ++q) {
          const float* w = panels + q * panel_floats + k * (NV * V);
          for (int j = 0; j < NV; ++j) {
            const vf wj = vf::load_aligned(w + j * V);
            for (int r = 0; r < MR; ++r) acc[r][q * NV + j] = xsimd::fma(hk[r], wj, acc[r][q * NV + j]);
          }
        }
        if (k - k0 < ahead.n) __builtin_prefetch(ahead.p + (k - k0) * kLine, 0, 2);
      }
    }
  }
  // The same over a bf16 panel (k0 even): a k pair's word vector widens to the weights of k
  // (low halves shifted up) and k + 1 (high halves masked), exactly, and both go into the sums
  // in k order: the bits of accumulate over an fp32 panel of the same weights. Weights first
  // for any row count (each word vector serves 2·MR products); one row holds its two
  // broadcasts in registers, several rows broadcast from memory into each FMA (the registers
  // are the accumulators').
  template <int MR, int NP, int NV>
  static RECUR_KERNEL_INLINE void accumulate_bf16(int64_t k0, int64_t k1, const float* panels,
                                                  int64_t panel_words, const float* const (&h)[MR],
                                                  vf (&acc)[MR][NP * NV]) {
    const vi high(static_cast<int32_t>(0xffff0000u));
    const int32_t* w[NP];  // word row k0 / 2 of each panel
    for (int q = 0; q < NP; ++q) w[q] = reinterpret_cast<const int32_t*>(panels + q * panel_words) + (k0 / 2) * (NV * V);
    int64_t k = k0;
    for (; k + 2 <= k1; k += 2) {
      const vf h0(h[0][k]), h1(h[0][k + 1]);
      // Unrolled by hand: the body is beyond GCC's size for complete peeling, and a rolled loop
      // keeps the sums in memory (a store and a load per pair of FMAs).
#pragma GCC unroll 8
      for (int q = 0; q < NP; ++q) {
#pragma GCC unroll 8
        for (int j = 0; j < NV; ++j) {
          const vi word = vi::load_aligned(w[q] + j * V);
          const vf lo = xsimd::bitwise_cast<vf>(word << 16);
          const vf hi = xsimd::bitwise_cast<vf>(word & high);
#pragma GCC unroll 8
          for (int r = 0; r < MR; ++r) {
            vf& sum = acc[r][q * NV + j];
            sum = xsimd::fma(r == 0 ? h0 : vf(h[r][k]), lo, sum);
            sum = xsimd::fma(r == 0 ? h1 : vf(h[r][k + 1]), hi, sum);
          }
        }
        w[q] += NV * V;
      }
    }
    if (k < k1) {  // odd K: the last word's low halves
      for (int q = 0; q < NP; ++q) {
        for (int j = 0; j < NV; ++j) {
          const vf lo = xsimd::bitwise_cast<vf>(vi::load_aligned(w[q] + j * V) << 16);
          for (int r = 0; r < MR; ++r) acc[r][q * NV + j] = xsimd::fma(vf(h[r][k]), lo, acc[r][q * NV + j]);
        }
      }
    }
  }
  // Rows of the next block when `rest` rows are left: MR, except that the last MR < rest < 2 MR
  // rows go in two blocks of about half each (a 2-row tail block needs the panel's bytes for a
  // third of the multiply-adds, so 5 + 5 rows beat 6 + 4 and 4 + 4 beat 6 + 2).
  template <int MR>
  static RECUR_KERNEL_INLINE int64_t block_rows(int64_t rest) {
    if (rest >= 2 * MR || rest == MR) return MR;
    return rest > MR ? (rest + 1) / 2 : rest;
  }

  template <int MR, int NV>
  static RECUR_KERNEL_INLINE void zero(vf (&acc)[MR][NV]) {
    for (int r = 0; r < MR; ++r) {
      for (int j = 0; j < NV; ++j) acc[r][j] = vf(0.0f);
    }
  }
};

}  // namespace recur::kernels
