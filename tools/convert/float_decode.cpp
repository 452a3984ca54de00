#include "tools/convert/float_decode.hpp"

#include <cmath>
#include <cstring>

namespace recur::convert {

float half_to_float(uint16_t h) noexcept {
  int sign = h >> 15, exp = (h >> 10) & 31, mant = h & 1023;
  float v;
  if (exp == 0) v = std::ldexp(float(mant), -24);
  else if (exp == 31) v = mant ? std::nanf("") : INFINITY;
  else v = std::ldexp(float(mant | 1024), exp - 25);
  return sign ? -v : v;
}

float bf16_to_float(uint16_t h) noexcept {
  uint32_t u = uint32_t(h) << 16;
  float v;
  std::memcpy(&v, &u, 4);
  return v;
}

float decode_float(const uint8_t* p, int bytes, bool bf16) noexcept {
  if (bytes == 4) {
    float v;
    std::memcpy(&v, p, 4);
    return v;
  }
  if (bytes == 8) {
    double v;
    std::memcpy(&v, p, 8);
    return static_cast<float>(v);
  }
  uint16_t h = static_cast<uint16_t>(p[0] | (p[1] << 8));
  return bf16 ? bf16_to_float(h) : half_to_float(h);
}

}  // namespace recur::convert
