// The portable parts of int8 dynamic quantization (kernels/int8.hpp): weights quantized and
// packed at load, input rows quantized and results dequantized at run time. Plain fp32 code
// (no FMA contraction in this file's flags), so its bits are the same whichever ISA runs the sums.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/int8.hpp"

namespace recur::kernels {

namespace {

float max_abs(int64_t n, const float* x) {
  float m = 0.0f;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, std::fabs(x[i]));
  return m;
}

// 1.5 · 2^23: adding and subtracting it rounds |v| < 2^22 to an integer, nearest, ties to even
// (the default rounding mode), in two plain fp32 operations that vectorize (nearbyint may not).
constexpr float kRoundMagic = 12582912.0f;

// rne(v * inv) clamped to ±127 (inv = 127 / max, so only rounding can step past 127).
int quantize(float v, float inv) {
  const float r = (v * inv + kRoundMagic) - kRoundMagic;
  return static_cast<int>(std::min(127.0f, std::max(-127.0f, r)));
}

}  // namespace

void quantize_pack_s8(int64_t N, int64_t K, const float* W, int8_t* packed, float* scale,
                      int32_t* comp) noexcept {
  const int64_t Kp = int8_padded_k(K), Np = int8_padded_n(N);
  std::memset(packed, 0, static_cast<size_t>(Np * Kp));
  std::fill(comp, comp + Np, 0);
  for (int64_t n = 0; n < N; ++n) {
    const float* row = W + n * K;
    const float m = max_abs(K, row);
    const bool zero = !(m >= std::numeric_limits<float>::min());
    const float inv = zero ? 0.0f : 127.0f / m;
    scale[n] = zero ? 0.0f : m / 127.0f;
    int8_t* block = packed + (n / kInt8Block) * Kp * kInt8Block;
    int32_t sum = 0;
    for (int64_t k = 0; k < K; ++k) {
      const int w = zero ? 0 : quantize(row[k], inv);
      block[((k / kInt8KGroup) * kInt8Block + n % kInt8Block) * kInt8KGroup + k % kInt8KGroup] =
          static_cast<int8_t>(w);
      sum += w;
    }
    comp[n] = kInt8ZeroPoint * sum;
  }
}

void quantize_rows_u8(int64_t M, int64_t K, const float* x, int64_t ldx, uint8_t* u, int64_t ldu,
                      float* sx) noexcept {
  const int64_t Kp = int8_padded_k(K);
  for (int64_t m = 0; m < M; ++m) {
    const float* row = x + m * ldx;
    uint8_t* out = u + m * ldu;
    const float mx = max_abs(K, row);
    // Below the smallest normal (or NaN): a zero row, whatever the denormal mode.
    const bool zero = !(mx >= std::numeric_limits<float>::min());
    const float inv = zero ? 0.0f : 127.0f / mx;
    sx[m] = zero ? 0.0f : mx / 127.0f;
    for (int64_t k = 0; k < K; ++k) {
      out[k] = static_cast<uint8_t>(kInt8ZeroPoint + (zero ? 0 : quantize(row[k], inv)));
    }
    for (int64_t k = K; k < Kp; ++k) out[k] = kInt8ZeroPoint;
  }
}

void dequantize_rows(int64_t M, int64_t N, const int32_t* C, int64_t ldc, const float* sx,
                     const float* sw, const float* bias, float* y, int64_t ldy) noexcept {
  for (int64_t m = 0; m < M; ++m) {
    const int32_t* c = C + m * ldc;
    float* out = y + m * ldy;
    const float s = sx[m];
    for (int64_t n = 0; n < N; ++n) {
      const float v = static_cast<float>(c[n]) * (s * sw[n]);
      out[n] = bias ? v + bias[n] : v;
    }
  }
}

}  // namespace recur::kernels
