// first_non_finite: the weight check the reader runs on every chunk it reads, written so the
// compiler vectorizes the common all-finite case (an exponent test over blocks, no branch per value).
#pragma once

#include <cstdint>
#include <cstring>

namespace recur {

// Index of the first NaN or Inf in v[0, n), or n if every value is finite.
inline int64_t first_non_finite(const float* v, int64_t n) {
  constexpr int64_t kBlock = 256;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t e = b + kBlock < n ? b + kBlock : n;
    uint32_t any = 0;
    for (int64_t i = b; i < e; ++i) {
      uint32_t bits;
      std::memcpy(&bits, v + i, sizeof bits);
      any |= static_cast<uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
    }
    if (any) {
      for (int64_t i = b; i < e; ++i) {
        uint32_t bits;
        std::memcpy(&bits, v + i, sizeof bits);
        if ((bits & 0x7f800000u) == 0x7f800000u) return i;
      }
    }
  }
  return n;
}

}  // namespace recur
