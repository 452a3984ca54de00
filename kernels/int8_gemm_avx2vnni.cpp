// gemm_u8s8s32_avx2_vnni: AVX-VNNI vpdpbusd on 256-bit vectors (8 lanes, two per packed block);
// the compensation 128 Σ w is subtracted at the end. Compiled with AVX2 + AVX-VNNI flags;
// reached only after CPU detection.
#include <immintrin.h>

#include "kernels/int8_gemm_impl.hpp"

namespace recur::kernels {

namespace {
struct Avx2Vnni {
  using V = __m256i;
  using A = __m256i;
  static constexpr int kLanes = 8;
  static constexpr int nb(int mr) { return mr == 1 ? 4 : mr == 2 ? 2 : 1; }
  static V zero() { return _mm256_setzero_si256(); }
  static V load(const int8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static A prep(uint32_t u) { return _mm256_set1_epi32(static_cast<int>(u)); }
  static V dot(V acc, A a, V w) { return _mm256_dpbusd_avx_epi32(acc, a, w); }
  static V finish(V acc, const int32_t* comp) {
    return _mm256_sub_epi32(acc, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(comp)));
  }
  static void store(int32_t* p, V v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  static void dequantize(V r, float s, const float* sw, const float* bias, float* y) {
    __m256 v = rounded(_mm256_mul_ps(_mm256_cvtepi32_ps(r), rounded(_mm256_mul_ps(_mm256_set1_ps(s), _mm256_loadu_ps(sw)))));
    if (bias) v = _mm256_add_ps(v, _mm256_loadu_ps(bias));
    _mm256_storeu_ps(y, v);
  }
};
}  // namespace

const Int8Kernels& int8_kernels_avx2_vnni() noexcept {
  static const Int8Kernels k{"avx2_vnni", gemm_u8s8s32<Avx2Vnni>, gemm_u8s8f32<Avx2Vnni>};
  return k;
}

}  // namespace recur::kernels
