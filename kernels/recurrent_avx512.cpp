// recurrent_f32_avx512: the gate-panel kernels for AVX-512 (F/BW/VL/DQ), 16 floats per
// vector, up to 24 accumulator registers. Compiled with AVX-512 flags; reached only through
// the table after CPU detection.
#include "kernels/recurrent_impl.hpp"

namespace recur::kernels {

const RecurrentKernels& recurrent_f32_avx512() noexcept {
  static const RecurrentKernels table = Recurrent<xsimd::avx512bw, 24>::table("avx512");
  return table;
}

}  // namespace recur::kernels
