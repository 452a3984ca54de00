// ISA detection (GCC's __builtin_cpu_supports, which also checks OS register support) and
// selection with the RECUR_ISA override; RECUR_VERBOSE=1 logs the choice.
#include "runtime/isa.hpp"

#include <cpuid.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace recur {

const char* isa_name(Isa isa) noexcept {
  switch (isa) {
    case Isa::best: return "best";
    case Isa::avx512: return "avx512";
    case Isa::avx2: return "avx2";
    case Isa::scalar: return "scalar";
  }
  return "?";
}

bool cpu_has_avx_vnni() noexcept {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) return false;
  return (eax >> 4) & 1u;
}

bool cpu_supports(Isa isa) noexcept {
  switch (isa) {
    case Isa::best:
    case Isa::scalar:
      return true;
#if defined(__x86_64__) || defined(__i386__)
    case Isa::avx512:
      // The AVX-512 kernels are built with -mavx512f/bw/vl/dq (kernels/CMakeLists.txt).
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("fma");
    case Isa::avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    case Isa::avx512:
    case Isa::avx2:
      return false;
#endif
  }
  return false;
}

Isa detect_isa() noexcept {
  if (cpu_supports(Isa::avx512)) return Isa::avx512;
  if (cpu_supports(Isa::avx2)) return Isa::avx2;
  return Isa::scalar;
}

Result<Isa> choose_isa(Isa requested) {
  std::string why = "LoadOptions.isa";
  if (requested == Isa::best) {
    const char* env = std::getenv("RECUR_ISA");
    if (env && *env) {
      if (std::strcmp(env, "avx512") == 0) {
        requested = Isa::avx512;
      } else if (std::strcmp(env, "avx2") == 0) {
        requested = Isa::avx2;
      } else if (std::strcmp(env, "scalar") == 0) {
        requested = Isa::scalar;
      } else {
        return Status(Errc::invalid_argument, std::string("RECUR_ISA='") + env +
                                                  "' is not one of avx512, avx2, scalar");
      }
      why = std::string("RECUR_ISA=") + env;
    }
  }
  Isa chosen = requested;
  if (requested == Isa::best) {
    chosen = detect_isa();
    why = "CPU detection";
  } else if (!cpu_supports(requested)) {
    return Status(Errc::unsupported, std::string("ISA ") + isa_name(requested) + " (from " + why +
                                         ") is not supported by this CPU");
  }
  const char* verbose = std::getenv("RECUR_VERBOSE");
  if (verbose && std::strcmp(verbose, "1") == 0) {
    std::fprintf(stderr, "recur: isa %s (by %s), kernels %s\n", isa_name(chosen), why.c_str(),
                 kernels_for(chosen).name);
  }
  return chosen;
}

const kernels::KernelTable& kernels_for(Isa isa) noexcept {
  switch (isa) {
    case Isa::avx512: return kernels::avx512_kernels();
    case Isa::avx2: return kernels::avx2_kernels();
    case Isa::scalar: return kernels::scalar_kernels();
    case Isa::best: break;
  }
  return kernels_for(detect_isa());
}

}  // namespace recur
