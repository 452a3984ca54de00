// recurrent_f32_avx2: the gate-panel kernels for AVX2 + FMA, 8 floats per vector, up to
// 12 accumulator registers. Compiled with AVX2/FMA flags; reached only through the table after
// CPU detection.
#include "kernels/recurrent_impl.hpp"

namespace recur::kernels {

const RecurrentKernels& recurrent_f32_avx2() noexcept {
  static const RecurrentKernels table = Recurrent<xsimd::fma3<xsimd::avx2>, 12>::table("avx2");
  return table;
}

}  // namespace recur::kernels
