// Choosing the instruction set once at load: CPU detection, the RECUR_ISA override, and the
// kernel table that goes with the choice.
#pragma once

#include "kernels/kernels.hpp"
#include "recur/model.hpp"

namespace recur {

// Whether this CPU (and OS) can run kernels built for `isa`. best and scalar: always.
bool cpu_supports(Isa isa) noexcept;
// AVX-VNNI (vpdpbusd on ymm; CPUID leaf 7 subleaf 1, EAX bit 4), which not every compiler's
// __builtin_cpu_supports names. Only meaningful where cpu_supports(Isa::avx2).
bool cpu_has_avx_vnni() noexcept;
// The widest ISA the CPU supports.
Isa detect_isa() noexcept;
// LoadOptions.isa, with RECUR_ISA applied when it is `best`, checked against the CPU:
// an unknown RECUR_ISA value is invalid_argument, an ISA the CPU lacks is unsupported.
Result<Isa> choose_isa(Isa requested);
// The kernels for a chosen ISA.
const kernels::KernelTable& kernels_for(Isa isa) noexcept;

}  // namespace recur
