// The vector math of the gate-panel kernels, over xsimd::batch<float, Arch>: e^-x, sigmoid,
// tanh, the refined reciprocal, and tail-safe loads and stores. Part of the chain
// VecMath -> PanelMicroKernels -> CellEpilogues -> Recurrent (kernels/recurrent_impl.hpp), each
// a class template over the ISA, so every instantiation has its own symbols (no inline function
// is shared between translation units built with different flags — the ODR trap); for the same
// reason nothing here calls std:: algorithms or PanelShape's member functions.
#pragma once

#include <cstdint>
#include <type_traits>

#include <xsimd/xsimd.hpp>

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

template <class Arch>
struct VecMath {
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
  // (the rounding constant gives n and 2^n with no conversion).
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
  // operations, no polynomial for small |x| and no select beside it). |x| is clamped to
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
};

}  // namespace recur::kernels
