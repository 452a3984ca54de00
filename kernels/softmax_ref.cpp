// softmax_f32_ref: x = exp(x - max x) / sum, in place over one row.
#include <cmath>

#include "kernels/kernels.hpp"

namespace recur::kernels {

void softmax_f32_ref(int64_t n, float* x) {
  if (n <= 0) return;
  float mx = x[0];
  for (int64_t i = 1; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = 1.0f / sum;
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

}  // namespace recur::kernels
