// The vector code behind kernels/recurrent.hpp, written once over xsimd::batch<float, Arch> and
// instantiated once per ISA by recurrent_<isa>.cpp (each compiled with its own -m flags).
// Everything here is a member of Recurrent<Arch>, so every instantiation has its own symbols
// (no inline function is shared between translation units built with different flags — the
// ODR trap); for the same reason nothing here calls std:: algorithms.
//
// Shapes (see recurrent.hpp): R panels [p][k][g][s][v]; gx rows (G*H) canonical gate blocks;
// h (B, K); c, h_next, z, rh (B, H).
#pragma once

#include <cstdint>
#include <type_traits>

#include <xsimd/xsimd.hpp>

#include "kernels/recurrent.hpp"

namespace recur::kernels {

// Inlined into the micro-kernels so the accumulators stay in registers through the epilogue.
// Not forced in sanitizer builds, where it makes these translation units take many minutes.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RECUR_KERNEL_INLINE inline
#define RECUR_KERNEL_LAMBDA
#else
#define RECUR_KERNEL_INLINE inline __attribute__((always_inline))
#define RECUR_KERNEL_LAMBDA __attribute__((always_inline))
#endif

// kRegs: vector registers the accumulators of one micro-kernel may use.
template <class Arch, int kRegs>
struct Recurrent {
  using vf = xsimd::batch<float, Arch>;
  using vi = xsimd::batch<int32_t, Arch>;
  static constexpr int V = static_cast<int>(vf::size);

  // ---- activations -----------------------------------------------------------------------
  // e^-t = 2^n e^r for t in [0, 88] (Cody-Waite): n = round(-t log2 e), r = -t - n ln2 in two
  // parts, |r| <= ln2 / 2. n is rounded by adding 1.5 * 2^23 (in the default rounding mode: to
  // nearest), which also leaves n + 127 in the low mantissa bits of m, the exponent field of 2^n
  // one shift away (pow2). q = (e^r - 1) / r by Cephes expf's degree-6 polynomial, by Horner.
  struct Reduced {
    vf r, m, q;
  };
  static RECUR_KERNEL_INLINE Reduced reduce(vf t) {
    constexpr float kRound = 12582912.0f + 127.0f;  // 1.5 * 2^23, plus the exponent bias
    const vf m = xsimd::fma(t, vf(-1.44269504088896341f), vf(kRound));
    const vf n = m - vf(kRound);                     // in [-127, 0]
    vf r = xsimd::fnms(n, vf(0.693359375f), t);     // -t - n ln2
    r = xsimd::fnma(n, vf(-2.12194440e-4f), r);
    vf q = vf(1.9875691500e-4f);
    q = xsimd::fma(q, r, vf(1.3981999507e-3f));
    q = xsimd::fma(q, r, vf(8.3334519073e-3f));
    q = xsimd::fma(q, r, vf(4.1665795894e-2f));
    q = xsimd::fma(q, r, vf(1.6666665459e-1f));
    q = xsimd::fma(q, r, vf(5.0000001201e-1f));
    q = xsimd::fma(q, r, vf(1.0f));
    return {r, m, q};
  }
  static RECUR_KERNEL_INLINE vf pow2(vf m) {
    return xsimd::bitwise_cast<vf>(xsimd::bitwise_cast<vi>(m) << 23);
  }

  // exp(-a) for a >= 0. a is clamped to 88, where 2^n reaches 2^-127 and the bits give 0:
  // results below FLT_MIN flush to 0, as they would under FTZ. NaN in, NaN out: min returns its
  // second operand when one is NaN (minps), so a NaN a passes the clamp. 13 vector operations
  // (nearbyint, a conversion and an integer add for n and 2^n took 17).
  static RECUR_KERNEL_INLINE vf exp_neg(vf a) {
    const Reduced e = reduce(xsimd::min(vf(88.0f), a));
    return xsimd::fma(e.q, e.r, vf(1.0f)) * pow2(e.m);
  }

  // 1 / d for d in [1, 2]: the hardware estimate (2^-14 on AVX-512, 2^-12 otherwise) refined
  // by Newton steps (one for 2^-14, two for 2^-12) to about 2^-24, much cheaper than a divide.
  static vf recip(vf d) {
    vf r = xsimd::reciprocal(d);
    r = xsimd::fma(r, xsimd::fnma(d, r, vf(1.0f)), r);
    if constexpr (!std::is_base_of<xsimd::avx512f, Arch>::value) {
      r = xsimd::fma(r, xsimd::fnma(d, r, vf(1.0f)), r);
    }
    return r;
  }

  // 1 / (1 + e^-x) from e = e^-|x| (never overflows): x >= 0 ? 1/(1+e) : e/(1+e). Exactly 1
  // for x >= 17, exactly 0 for x <= -88, NaN in -> NaN out (e is NaN, and so is either branch).
  static RECUR_KERNEL_INLINE vf sigmoid(vf x) {
    const vf e = exp_neg(xsimd::abs(x));
    const vf s = recip(vf(1.0f) + e);
    return xsimd::select(x >= vf(0.0f), s, e * s);
  }

  // tanh |x| = -u / (2 + u) with u = e^-2|x| - 1 = 2^n (e^r - 1) + (2^n - 1), in (-1, 0]: for
  // small |x| (n = 0) u is r q, with no cancellation, so one formula serves every x (24 vector
  // operations; a polynomial for |x| < 0.625 beside (1 - e)/(1 + e) took 32). |x| is clamped to
  // 9.5, where u rounds to -1: exactly ±1 for |x| >= 9.1. Sign copied from x; NaN in, NaN out
  // (through the clamp as in exp_neg).
  static RECUR_KERNEL_INLINE vf tanh(vf x) {
    const vf a = xsimd::min(vf(9.5f), xsimd::abs(x));
    const Reduced e = reduce(a + a);
    const vf s = pow2(e.m);
    const vf u = xsimd::fma(s, e.q * e.r, s - vf(1.0f));
    const vf t = u * recip(u + vf(2.0f));                          // -tanh |x|
    return xsimd::abs(t) | (x & vf(-0.0f));                         // copysign(tanh |x|, x)
  }

  // ---- tail-safe loads and stores ------------------------------------------------------------
  // n in [1, V] valid floats at p; lanes past n read as 0 / are not written.
  static RECUR_KERNEL_INLINE vf load_n(const float* p, int64_t n) {
    if (n == V) return vf::load_unaligned(p);
    alignas(64) float t[V];
    for (int i = 0; i < V; ++i) t[i] = i < n ? p[i] : 0.0f;
    return vf::load_aligned(t);
  }
  static RECUR_KERNEL_INLINE void store_n(float* p, vf v, int64_t n) {
    if (n == V) {
      v.store_unaligned(p);
      return;
    }
    alignas(64) float t[V];
    v.store_aligned(t);
    for (int64_t i = 0; i < n; ++i) p[i] = t[i];
  }
  static RECUR_KERNEL_INLINE void copy_n(float* dst, const float* src, int64_t n) {
    for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
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
    // weight vector folds into its FMA: B=1 measured 2-3% faster so). The order of each sum is
    // the same either way.
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
  // third of the multiply-adds: 5 + 5 rows beat 6 + 4, 4 + 4 beat 6 + 2). Measured on Zen 4,
  // B = 32 per thread (6 + 2 -> 4 + 4): -4% at lstm (512,512), (1024,1024), gru (512,512) B = 64
  // 2 threads; lstm (8,64) B = 64 -8..-11%.
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
  // and the rows' activations, independent, then fill the pipelines (lstm (8,64) B = 64 8%
  // faster on Zen 5 so).
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

  // ---- fused step: panels outer (each stays in L2 across row blocks), rows in blocks of MR ----
  // MR rows [b0, b0 + MR) of NP panels from p, all of k in registers; R's panels bf16 or not
  // (a template argument: each kind of step compiles to a loop of its own). No blocking over k:
  // each row block streams its whole panel from L2 (or L3) with its sums in registers: at 6
  // rows, 256 bytes per 24 vector FMAs (about 11 bytes a cycle on Zen 4), well within L2's
  // bandwidth, and no partial sums go through memory. Measured on Zen 4 against k-chunks
  // kept in L1 with partial sums in memory between them (this path until then): the whole-k
  // sweep 5-20% faster at B = 16, 32, 64, lstm/gru/rnn, every panel tried from 128 KiB to
  // 2.3 MiB (K = 512 to 9216), 1 and 2 threads; the gates GEMM below likewise.
  template <class Cell, int MR, int NP, bool kBf16>
  static RECUR_KERNEL_INLINE void step_block(const StepArgs& a, int64_t p, int64_t b0,
                                             Lines ahead_w = {}, Lines ahead_r = {}) {
    constexpr int NV = Cell::G * sub_blocks(Cell::G);
    vf acc[MR][NP * NV];
    for (int r = 0; r < MR; ++r) {
      for (int q = 0; q < NP; ++q) start<Cell>(a, b0 + r, p + q, acc[r] + q * NV);
    }
    if (fuses<Cell>(a)) {
      const int64_t pfw = a.w_shape.panel_floats();
      const float* x[MR];
      for (int r = 0; r < MR; ++r) x[r] = a.x[b0 + r];
      accumulate<MR, NP, NV>(0, a.w_shape.K, a.W + p * pfw, pfw, x, acc, ahead_w);
      for (int r = 0; r < MR; ++r) {
        for (int q = 0; q < NP; ++q) add_bias<Cell>(a, p + q, acc[r] + q * NV);
      }
    }
    const int64_t pf = a.shape.panel_floats();
    const float* h[MR];
    for (int r = 0; r < MR; ++r) h[r] = a.h + (b0 + r) * a.ldh;
    if constexpr (kBf16) {
      accumulate_bf16<MR, NP, NV>(0, a.shape.K, a.R + p * pf, pf, h, acc);
    } else {
      accumulate<MR, NP, NV>(0, a.shape.K, a.R + p * pf, pf, h, acc, ahead_r);
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
    // (lstm (1536,1536) B = 4, 2 threads: +9..22%).
    const int64_t pf = a.shape.panel_floats(), pfw = a.W ? a.w_shape.panel_floats() : 0;
    const int64_t fb = static_cast<int64_t>(sizeof(float));
    const int64_t blocks = (a.B + MR - 1) / MR;
    for (int64_t i = p0; i < p1; ++i) {
      const int64_t p = a.backward ? p1 - 1 - (i - p0) : i;
      const int64_t next = a.backward ? p - 1 : p + 1;
      const bool ahead = a.prefetch_next && blocks > 1 && next >= p0 && next < p1;
      int64_t part = 0;
      for (int64_t b = 0, n = 0; b < a.B; b += n, ++part) {
        n = block_rows<MR>(a.B - b);
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
    const int64_t pf = sh.panel_floats();
    zero(acc);
    accumulate<MR, 1, G * S>(0, sh.K, panels + p * pf, pf, x, acc);
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
        n = block_rows<MR>(M - m);
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
        apply<sigmoid>, apply<tanh>,
    };
  }
};

}  // namespace recur::kernels
