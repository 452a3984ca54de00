// gemm_u8s8s32_avx512: AVX-512 (BW) without VNNI, the same integers as vpdpbusd: vpmaddubsw on
// |q| (u8) and w negated where q < 0 (pairs ≤ 2·127² < 2^15: no saturation), vpmaddwd with ones
// into int32. Compiled with AVX-512 flags; reached only after CPU detection.
#include <immintrin.h>

#include "kernels/int8_gemm_impl.hpp"

namespace recur::kernels {

namespace {
struct Avx512 {
  using V = __m512i;
  struct A {
    __m512i abs_q;      // |q| as u8
    __mmask64 negative; // bytes where q < 0
  };
  static constexpr int kLanes = 16;
  static constexpr int nb(int mr) { return mr == 1 ? 8 : 4; }
  static V zero() { return _mm512_setzero_si512(); }
  static V load(const int8_t* p) { return _mm512_loadu_si512(p); }
  static A prep(uint32_t u) {
    const __m512i q = _mm512_xor_si512(_mm512_set1_epi32(static_cast<int>(u)), _mm512_set1_epi8(-128));
    return {_mm512_abs_epi8(q), _mm512_movepi8_mask(q)};
  }
  static V dot(V acc, const A& a, V w) {
    const __m512i signed_w = _mm512_mask_sub_epi8(w, a.negative, _mm512_setzero_si512(), w);
    const __m512i pairs = _mm512_maddubs_epi16(a.abs_q, signed_w);
    return _mm512_add_epi32(acc, _mm512_madd_epi16(pairs, _mm512_set1_epi16(1)));
  }
  static V finish(V acc, const int32_t*) { return acc; }
  static void store(int32_t* p, V v) { _mm512_storeu_si512(p, v); }
  static void dequantize(V r, float s, const float* sw, const float* bias, float* y) {
    __m512 v = rounded(_mm512_mul_ps(_mm512_cvtepi32_ps(r), rounded(_mm512_mul_ps(_mm512_set1_ps(s), _mm512_loadu_ps(sw)))));
    if (bias) v = _mm512_add_ps(v, _mm512_loadu_ps(bias));
    _mm512_storeu_ps(y, v);
  }
};
}  // namespace

const Int8Kernels& int8_kernels_avx512() noexcept {
  static const Int8Kernels k{"avx512", gemm_u8s8s32<Avx512>, gemm_u8s8f32<Avx512>};
  return k;
}

}  // namespace recur::kernels
