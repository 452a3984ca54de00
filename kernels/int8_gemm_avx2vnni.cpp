// gemm_u8s8s32_avx2_vnni: AVX-VNNI vpdpbusd on 256-bit vectors (8 lanes, two per packed block);
// the compensation 128 Σ w is subtracted at the end. Compiled with AVX2 + AVX-VNNI flags;
// reached only after CPU detection.
#include "kernels/int8_vectors_avx2.hpp"

namespace recur::kernels {

namespace {
struct Avx2Vnni : Int8Vectors256 {
  using A = __m256i;
  static A prep(uint32_t u) { return _mm256_set1_epi32(static_cast<int>(u)); }
  static V dot(V acc, A a, V w) { return _mm256_dpbusd_avx_epi32(acc, a, w); }
  static V finish(V acc, const int32_t* comp) {
    return _mm256_sub_epi32(acc, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(comp)));
  }
};
}  // namespace

const Int8Kernels& int8_kernels_avx2_vnni() noexcept {
  static const Int8Kernels k{"avx2_vnni", gemm_u8s8s32<Avx2Vnni>, gemm_u8s8f32<Avx2Vnni>};
  return k;
}

}  // namespace recur::kernels
