// recurrent_f32_scalar: the gate-panel kernels for the baseline ISA every x86-64 CPU has
// (SSE2, 4 floats per vector, separate multiply and add), compiled without extra flags: the
// fallback when neither AVX2 nor AVX-512 is available, and RECUR_ISA=scalar.
#include "kernels/recurrent_impl.hpp"

namespace recur::kernels {

const RecurrentKernels& recurrent_f32_scalar() noexcept {
  static const RecurrentKernels table = Recurrent<xsimd::sse2, 12>::table("scalar");
  return table;
}

}  // namespace recur::kernels
