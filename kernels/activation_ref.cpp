// activation_f32_ref, clip_f32_ref: ONNX activation functions and pre-activation clipping,
// applied in place over a contiguous array. One loop per function so each one vectorizes.
#include <algorithm>
#include <cmath>

#include "kernels/kernels.hpp"

namespace recur::kernels {

namespace {

// Logistic sigmoid without overflow: e^-|x| never exceeds 1.
inline float sigmoid(float x) {
  const float e = std::exp(-std::fabs(x));
  const float s = 1.0f / (1.0f + e);
  return x >= 0.0f ? s : e * s;
}

// log(1 + e^x) without overflow for large x.
inline float softplus(float x) {
  return std::max(x, 0.0f) + std::log1p(std::exp(-std::fabs(x)));
}

}  // namespace

void activation_f32_ref(Act act, int64_t n, float* x) {
  const float a = act.alpha;
  const float b = act.beta;
  switch (act.kind) {
    case ActKind::sigmoid:
      for (int64_t i = 0; i < n; ++i) x[i] = sigmoid(x[i]);
      return;
    case ActKind::tanh:
      for (int64_t i = 0; i < n; ++i) x[i] = std::tanh(x[i]);
      return;
    case ActKind::relu:
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
      return;
    case ActKind::hard_sigmoid:
      for (int64_t i = 0; i < n; ++i) x[i] = std::min(std::max(a * x[i] + b, 0.0f), 1.0f);
      return;
    case ActKind::leaky_relu:
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] >= 0.0f ? x[i] : a * x[i];
      return;
    case ActKind::thresholded_relu:
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] > a ? x[i] : 0.0f;
      return;
    case ActKind::scaled_tanh:
      for (int64_t i = 0; i < n; ++i) x[i] = a * std::tanh(b * x[i]);
      return;
    case ActKind::affine:
      for (int64_t i = 0; i < n; ++i) x[i] = a * x[i] + b;
      return;
    case ActKind::elu:
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] >= 0.0f ? x[i] : a * std::expm1(x[i]);
      return;
    case ActKind::softsign:
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] / (1.0f + std::fabs(x[i]));
      return;
    case ActKind::softplus:
      for (int64_t i = 0; i < n; ++i) x[i] = softplus(x[i]);
      return;
  }
}

void clip_f32_ref(float clip, int64_t n, float* x) {
  if (!(clip > 0.0f)) return;
  for (int64_t i = 0; i < n; ++i) x[i] = std::min(std::max(x[i], -clip), clip);
}

}  // namespace recur::kernels
