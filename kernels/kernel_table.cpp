// The kernel tables Model chooses from at load. Every ISA currently runs the _ref kernels;
// the AVX-512 / AVX2 kernels (files *_avx512.cpp / *_avx2.cpp) register here as they land.
#include "kernels/kernels.hpp"

namespace recur::kernels {

const KernelTable& ref_kernels() noexcept {
  static const KernelTable table{
      "ref",
      pack_kn_f32_ref,
      gemm_f32_ref,
      rnn_cell_f32_ref,
      lstm_cell_f32_ref,
      gru_reset_f32_ref,
      gru_cell_f32_ref,
      softmax_f32_ref,
  };
  return table;
}

}  // namespace recur::kernels
