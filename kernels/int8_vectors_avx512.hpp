// The 512-bit vector moves the two AVX-512 int8 kernels share (int8_gemm_avx512.cpp,
// int8_gemm_avx512vnni.cpp): 16 int32 lanes, one packed block per vector. Only for translation
// units compiled with AVX-512 flags; the structs have internal linkage there.
#pragma once

#include <immintrin.h>

#include "kernels/int8_gemm_impl.hpp"

namespace recur::kernels {
namespace {
struct Int8Vectors512 {
  using V = __m512i;
  static constexpr int kLanes = 16;
  static constexpr int nb(int mr) { return mr == 1 ? 8 : 4; }
  static V zero() { return _mm512_setzero_si512(); }
  static V load(const int8_t* p) { return _mm512_loadu_si512(p); }
  static void store(int32_t* p, V v) { _mm512_storeu_si512(p, v); }
  static void dequantize(V r, float s, const float* sw, const float* bias, float* y) {
    __m512 v = rounded(_mm512_mul_ps(_mm512_cvtepi32_ps(r), rounded(_mm512_mul_ps(_mm512_set1_ps(s), _mm512_loadu_ps(sw)))));
    if (bias) v = _mm512_add_ps(v, _mm512_loadu_ps(bias));
    _mm512_storeu_ps(y, v);
  }
};
}  // namespace
}  // namespace recur::kernels
