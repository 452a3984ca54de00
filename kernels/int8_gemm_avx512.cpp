// gemm_u8s8s32_avx512: AVX-512 (BW) without VNNI, the same integers as vpdpbusd: vpmaddubsw on
// |q| (u8) and w negated where q < 0 (pairs ≤ 2·127² < 2^15: no saturation), vpmaddwd with ones
// into int32. Compiled with AVX-512 flags; reached only after CPU detection.
#include "kernels/int8_vectors_avx512.hpp"

namespace recur::kernels {

namespace {
struct Avx512 : Int8Vectors512 {
  struct A {
    __m512i abs_q;       // |q| as u8
    __mmask64 negative;  // bytes where q < 0
  };
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
};
}  // namespace

const Int8Kernels& int8_kernels_avx512() noexcept {
  static const Int8Kernels k{"avx512", gemm_u8s8s32<Avx512>, gemm_u8s8f32<Avx512>};
  return k;
}

}  // namespace recur::kernels
