// gemm_u8s8s32_scalar: the packed int8 product in plain integer loops (any x86-64 or other CPU):
// C[m][n] = Σ_k (u[m][k] - 128) · w[n][k] read from the 16-row blocks of kernels/int8.hpp.
#include "kernels/int8.hpp"

namespace recur::kernels {

namespace {
void gemm_u8s8s32_scalar(int64_t M, int64_t N, int64_t Kp, const uint8_t* u, int64_t ldu,
                         const int8_t* packed, const int32_t*, int32_t* C, int64_t ldc) noexcept {
  for (int64_t m = 0; m < M; ++m) {
    const uint8_t* row = u + m * ldu;
    for (int64_t n = 0; n < N; ++n) {
      const int8_t* block = packed + (n / kInt8Block) * Kp * kInt8Block;
      int32_t sum = 0;
      for (int64_t k = 0; k < Kp; ++k) {
        const int32_t w = block[((k / kInt8KGroup) * kInt8Block + n % kInt8Block) * kInt8KGroup + k % kInt8KGroup];
        sum += (int32_t(row[k]) - kInt8ZeroPoint) * w;
      }
      C[m * ldc + n] = sum;
    }
  }
}

void gemm_u8s8f32_scalar(int64_t M, int64_t N, int64_t Kp, const uint8_t* u, int64_t ldu,
                         const int8_t* packed, const int32_t* comp, const float* sx,
                         const float* sw, const float* bias, float* y, int64_t ldy) noexcept {
  int32_t c[kInt8Block];  // one block of one row at a time
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t n0 = 0; n0 < N; n0 += kInt8Block) {
      const int64_t n = N - n0 < kInt8Block ? N - n0 : kInt8Block;
      gemm_u8s8s32_scalar(1, n, Kp, u + m * ldu, ldu, packed + n0 * Kp, comp, c, kInt8Block);
      dequantize_rows(1, n, c, kInt8Block, sx + m, sw + n0, bias ? bias + n0 : nullptr, y + m * ldy + n0, ldy);
    }
  }
}
}  // namespace

const Int8Kernels& int8_kernels_scalar() noexcept {
  static const Int8Kernels k{"scalar", gemm_u8s8s32_scalar, gemm_u8s8f32_scalar};
  return k;
}

}  // namespace recur::kernels
