// gemm_f32_ref + pack_kn_f32_ref: C (M, N) = A (M, K) · B (K, N) + bias, B packed as the
// transpose of the canonical (N, K) weight. The inner loop runs over n, so it vectorizes
// without reassociating sums: C[m][n] is bias[n] + A[m][0] B[0][n] + A[m][1] B[1][n] + ...
// accumulated in k order, the same value whatever M is or however N is split.
#include "kernels/kernels.hpp"

namespace recur::kernels {

void pack_kn_f32_ref(int64_t N, int64_t K, const float* W, float* out) {
  // W (N, K) row-major -> out (K, N) row-major.
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t k = 0; k < K; ++k) out[k * N + n] = W[n * K + k];
  }
}

void gemm_f32_ref(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
                  int64_t ldb, const float* bias, float* C, int64_t ldc) {
  for (int64_t m = 0; m < M; ++m) {
    const float* a = A + m * lda;  // (K)
    float* c = C + m * ldc;        // (N)
    if (bias) {
      for (int64_t n = 0; n < N; ++n) c[n] = bias[n];
    } else {
      for (int64_t n = 0; n < N; ++n) c[n] = 0.0f;
    }
    for (int64_t k = 0; k < K; ++k) {
      const float ak = a[k];
      const float* b = B + k * ldb;  // (N)
      for (int64_t n = 0; n < N; ++n) c[n] += ak * b[n];
    }
  }
}

}  // namespace recur::kernels
