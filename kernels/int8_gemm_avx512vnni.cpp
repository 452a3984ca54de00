// gemm_u8s8s32_avx512_vnni: AVX512-VNNI vpdpbusd (u8 × s8, 4 products into each int32 lane),
// 16 lanes = one packed block per vector; the compensation 128 Σ w is subtracted at the end.
// Compiled with AVX-512 + VNNI flags; reached only after CPU detection.
#include <immintrin.h>

#include "kernels/int8_gemm_impl.hpp"

namespace recur::kernels {

namespace {
struct Avx512Vnni {
  using V = __m512i;
  using A = __m512i;
  static constexpr int kLanes = 16;
  static constexpr int nb(int mr) { return mr == 1 ? 8 : 4; }
  static V zero() { return _mm512_setzero_si512(); }
  static V load(const int8_t* p) { return _mm512_loadu_si512(p); }
  static A prep(uint32_t u) { return _mm512_set1_epi32(static_cast<int>(u)); }
  static V dot(V acc, A a, V w) { return _mm512_dpbusd_epi32(acc, a, w); }
  static V finish(V acc, const int32_t* comp) { return _mm512_sub_epi32(acc, _mm512_loadu_si512(comp)); }
  static void store(int32_t* p, V v) { _mm512_storeu_si512(p, v); }
  static void dequantize(V r, float s, const float* sw, const float* bias, float* y) {
    __m512 v = rounded(_mm512_mul_ps(_mm512_cvtepi32_ps(r), rounded(_mm512_mul_ps(_mm512_set1_ps(s), _mm512_loadu_ps(sw)))));
    if (bias) v = _mm512_add_ps(v, _mm512_loadu_ps(bias));
    _mm512_storeu_ps(y, v);
  }
};
}  // namespace

const Int8Kernels& int8_kernels_avx512_vnni() noexcept {
  static const Int8Kernels k{"avx512_vnni", gemm_u8s8s32<Avx512Vnni>, gemm_u8s8f32<Avx512Vnni>};
  return k;
}

}  // namespace recur::kernels
