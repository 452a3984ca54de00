// The kernel tables Model chooses from at load (runtime/isa.cpp): the generic kernels
// (kernels/*_ref.cpp) for the generic layers (any activation, clip, peepholes, projection) and
// the head, plus, per ISA, the gate-panel kernels (kernels/recurrent_<isa>.cpp) for the rest.
#include "kernels/kernels.hpp"
#include "kernels/recurrent.hpp"

namespace recur::kernels {

namespace {
KernelTable with_panels(const char* name, const RecurrentKernels& panels) {
  KernelTable t = ref_kernels();
  t.name = name;
  t.panels = &panels;
  return t;
}
}  // namespace

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

const KernelTable& avx512_kernels() noexcept {
  static const KernelTable t = with_panels("avx512", recurrent_f32_avx512());
  return t;
}
const KernelTable& avx2_kernels() noexcept {
  static const KernelTable t = with_panels("avx2", recurrent_f32_avx2());
  return t;
}
const KernelTable& scalar_kernels() noexcept {
  static const KernelTable t = with_panels("scalar", recurrent_f32_scalar());
  return t;
}

}  // namespace recur::kernels
