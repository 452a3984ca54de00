// The 256-bit vector moves the two AVX2 int8 kernels share (int8_gemm_avx2.cpp,
// int8_gemm_avx2vnni.cpp): 8 int32 lanes, two vectors per packed block. Only for translation
// units compiled with AVX2 flags; the structs have internal linkage there.
#pragma once

#include <immintrin.h>

#include "kernels/int8_gemm_impl.hpp"

namespace recur::kernels {
namespace {
struct Int8Vectors256 {
  using V = __m256i;
  static constexpr int kLanes = 8;
  static constexpr int nb(int mr) { return mr == 1 ? 4 : mr == 2 ? 2 : 1; }
  static V zero() { return _mm256_setzero_si256(); }
  static V load(const int8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static void store(int32_t* p, V v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  static void dequantize(V r, float s, const float* sw, const float* bias, float* y) {
    __m256 v = rounded(_mm256_mul_ps(_mm256_cvtepi32_ps(r), rounded(_mm256_mul_ps(_mm256_set1_ps(s), _mm256_loadu_ps(sw)))));
    if (bias) v = _mm256_add_ps(v, _mm256_loadu_ps(bias));
    _mm256_storeu_ps(y, v);
  }
};
}  // namespace
}  // namespace recur::kernels
