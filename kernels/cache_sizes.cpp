// Cache sizes the kernels plan for, read from the CPU once (kernels/recurrent.hpp).
#include <unistd.h>

#include "kernels/recurrent.hpp"

namespace recur::kernels {

int64_t l1_budget_bytes() noexcept {
  static const int64_t bytes = [] {
    const long l1 = sysconf(_SC_LEVEL1_DCACHE_SIZE);  // 0 or -1 where the kernel does not say
    const int64_t known = l1 >= 16 * 1024 && l1 <= 1024 * 1024 ? l1 : 32 * 1024;
    return known / 4 * 3;
  }();
  return bytes;
}

int64_t l3_bytes() noexcept {
  static const int64_t bytes = [] {
    const long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
    return l3 >= 1024 * 1024 ? static_cast<int64_t>(l3) : int64_t{32} << 20;
  }();
  return bytes;
}

}  // namespace recur::kernels
