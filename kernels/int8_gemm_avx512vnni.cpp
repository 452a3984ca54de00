// gemm_u8s8s32_avx512_vnni: AVX512-VNNI vpdpbusd (u8 × s8, 4 products into each int32 lane),
// 16 lanes = one packed block per vector; the compensation 128 Σ w is subtracted at the end.
// Compiled with AVX-512 + VNNI flags; reached only after CPU detection.
#include "kernels/int8_vectors_avx512.hpp"

namespace recur::kernels {

namespace {
struct Avx512Vnni : Int8Vectors512 {
  using A = __m512i;
  static A prep(uint32_t u) { return _mm512_set1_epi32(static_cast<int>(u)); }
  static V dot(V acc, A a, V w) { return _mm512_dpbusd_epi32(acc, a, w); }
  static V finish(V acc, const int32_t* comp) { return _mm512_sub_epi32(acc, _mm512_loadu_si512(comp)); }
};
}  // namespace

const Int8Kernels& int8_kernels_avx512_vnni() noexcept {
  static const Int8Kernels k{"avx512_vnni", gemm_u8s8s32<Avx512Vnni>, gemm_u8s8f32<Avx512Vnni>};
  return k;
}

}  // namespace recur::kernels
