// The cache sizes the run plan decides by (runtime/plan.hpp), read from the CPU once.
#pragma once

#include <cstdint>

namespace recur {

struct CacheSizes {
  int64_t l1_budget = 0;  // bytes of panel a B = 1 sweep can count on finding in L1: 3/4 of L1d
  int64_t l3 = 0;         // the last-level (L3) cache
};

// This CPU's, from sysfs, else sysconf, else 32 KiB L1d and 32 MiB L3.
const CacheSizes& cache_sizes() noexcept;

}  // namespace recur
