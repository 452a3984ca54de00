// The per-ISA kernel tables: the reference kernels for the generic paths (exotic activations,
// clip, peepholes, projection, heads) plus that ISA's fused recurrent kernels for the rest.
#include "kernels/kernels.hpp"
#include "kernels/recurrent.hpp"

namespace recur::kernels {

namespace {
KernelTable with_fast(const char* name, const RecurrentKernels& fast) {
  KernelTable t = ref_kernels();
  t.name = name;
  t.fast = &fast;
  return t;
}
}  // namespace

const KernelTable& avx512_kernels() noexcept {
  static const KernelTable t = with_fast("avx512", recurrent_f32_avx512());
  return t;
}
const KernelTable& avx2_kernels() noexcept {
  static const KernelTable t = with_fast("avx2", recurrent_f32_avx2());
  return t;
}
const KernelTable& scalar_kernels() noexcept {
  static const KernelTable t = with_fast("scalar", recurrent_f32_scalar());
  return t;
}

}  // namespace recur::kernels
