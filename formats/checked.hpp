// Overflow-checked arithmetic for every size computed from untrusted input.
#pragma once

#include <cstdint>
#include <vector>

namespace recur::checked {

// a + b into out; false on overflow.
inline bool add(uint64_t a, uint64_t b, uint64_t& out) noexcept { return !__builtin_add_overflow(a, b, &out); }
inline bool add(int64_t a, int64_t b, int64_t& out) noexcept { return !__builtin_add_overflow(a, b, &out); }
inline bool mul(uint64_t a, uint64_t b, uint64_t& out) noexcept { return !__builtin_mul_overflow(a, b, &out); }
inline bool mul(int64_t a, int64_t b, int64_t& out) noexcept { return !__builtin_mul_overflow(a, b, &out); }

// Round up to a multiple of `align` (a power of two); false on overflow.
inline bool align_up(uint64_t v, uint64_t align, uint64_t& out) noexcept {
  if (!add(v, align - 1, out)) return false;
  out &= ~(align - 1);
  return true;
}

// Product of dims; false if any dim is negative or the product overflows int64.
inline bool product(const std::vector<int64_t>& dims, int64_t& out) noexcept {
  int64_t p = 1;
  for (int64_t d : dims) {
    if (d < 0 || !mul(p, d, p)) return false;
  }
  out = p;
  return true;
}

}  // namespace recur::checked
