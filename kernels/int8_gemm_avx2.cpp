// gemm_u8s8s32_avx2: AVX2 without VNNI, the same integers as vpdpbusd: vpmaddubsw on |q| (u8)
// and sign(q)·w (vpsignb; pairs ≤ 2·127² < 2^15: no saturation), vpmaddwd with ones into int32.
// 8 lanes, two vectors per packed block. Compiled with AVX2 flags; reached after CPU detection.
#include "kernels/int8_vectors_avx2.hpp"

namespace recur::kernels {

namespace {
struct Avx2 : Int8Vectors256 {
  struct A {
    __m256i q;      // q as s8
    __m256i abs_q;  // |q| as u8
  };
  static A prep(uint32_t u) {
    const __m256i q = _mm256_xor_si256(_mm256_set1_epi32(static_cast<int>(u)), _mm256_set1_epi8(-128));
    return {q, _mm256_abs_epi8(q)};
  }
  static V dot(V acc, const A& a, V w) {
    const __m256i pairs = _mm256_maddubs_epi16(a.abs_q, _mm256_sign_epi8(w, a.q));
    return _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
  }
  static V finish(V acc, const int32_t*) { return acc; }
};
}  // namespace

const Int8Kernels& int8_kernels_avx2() noexcept {
  static const Int8Kernels k{"avx2", gemm_u8s8s32<Avx2>, gemm_u8s8f32<Avx2>};
  return k;
}

}  // namespace recur::kernels
