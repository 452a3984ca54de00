// The _ref kernels against double-precision formulas written here (ONNX definitions), and the
// row/column independence every GEMM must keep (kernels/NAMING.md).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/kernels.hpp"
#include "support/random_spec.hpp"

using namespace recur::kernels;

namespace {

bool close(double got, double want) {
  return std::fabs(got - want) <= 1e-6 + 1e-5 * std::fabs(want);
}

double onnx(ActKind k, double a, double b, double x) {
  switch (k) {
    case ActKind::sigmoid: return 1.0 / (1.0 + std::exp(-x));
    case ActKind::tanh: return std::tanh(x);
    case ActKind::relu: return std::max(0.0, x);
    case ActKind::hard_sigmoid: return std::min(1.0, std::max(0.0, a * x + b));
    case ActKind::leaky_relu: return x >= 0 ? x : a * x;
    case ActKind::thresholded_relu: return x > a ? x : 0.0;
    case ActKind::scaled_tanh: return a * std::tanh(b * x);
    case ActKind::affine: return a * x + b;
    case ActKind::elu: return x >= 0 ? x : a * (std::exp(x) - 1.0);
    case ActKind::softsign: return x / (1.0 + std::fabs(x));
    case ActKind::softplus: return std::log(1.0 + std::exp(x));
  }
  return 0;
}

}  // namespace

TEST_CASE("activation_f32_ref matches the ONNX definitions") {
  const ActKind kinds[] = {ActKind::sigmoid,     ActKind::tanh,        ActKind::relu,
                           ActKind::hard_sigmoid, ActKind::leaky_relu, ActKind::thresholded_relu,
                           ActKind::scaled_tanh,  ActKind::affine,     ActKind::elu,
                           ActKind::softsign,     ActKind::softplus};
  std::vector<float> xs;
  for (int i = -400; i <= 400; ++i) xs.push_back(static_cast<float>(i) * 0.05f);  // [-20, 20]
  for (ActKind k : kinds) {
    CAPTURE(static_cast<int>(k));
    const float a = 0.7f, b = 0.3f;
    std::vector<float> y = xs;
    activation_f32_ref({k, a, b}, static_cast<int64_t>(y.size()), y.data());
    for (size_t i = 0; i < xs.size(); ++i) {
      CAPTURE(xs[i]);
      CHECK(close(y[i], onnx(k, a, b, xs[i])));
    }
  }
  // Saturation and NaN.
  float big[4] = {100.0f, -100.0f, std::numeric_limits<float>::infinity(), std::nanf("")};
  activation_f32_ref({ActKind::sigmoid, 0, 0}, 4, big);
  CHECK(big[0] == 1.0f);
  CHECK(big[1] < 1e-30f);
  CHECK(big[2] == 1.0f);
  CHECK(std::isnan(big[3]));
  float sp[2] = {100.0f, -100.0f};
  activation_f32_ref({ActKind::softplus, 0, 0}, 2, sp);
  CHECK(sp[0] == 100.0f);
  CHECK(sp[1] < 1e-30f);
  float cl[3] = {-3.0f, 0.5f, 3.0f};
  clip_f32_ref(1.0f, 3, cl);
  CHECK(cl[0] == -1.0f);
  CHECK(cl[1] == 0.5f);
  CHECK(cl[2] == 1.0f);
}

TEST_CASE("gemm_f32_ref with pack_kn_f32_ref: values, and independence of M and column splits") {
  const int64_t M = 7, N = 37, K = 19;
  const std::vector<float> A = recur::test::random_values(M * K, 1);
  const std::vector<float> W = recur::test::random_values(N * K, 2);  // (N, K) canonical
  const std::vector<float> bias = recur::test::random_values(N, 3);
  std::vector<float> Bp(static_cast<size_t>(K * N));
  pack_kn_f32_ref(N, K, W.data(), Bp.data());
  std::vector<float> C(static_cast<size_t>(M * N));
  gemm_f32_ref(M, N, K, A.data(), K, Bp.data(), N, bias.data(), C.data(), N);
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t n = 0; n < N; ++n) {
      double want = bias[n];
      for (int64_t k = 0; k < K; ++k) want += double(A[m * K + k]) * W[n * K + k];
      CHECK(close(C[m * N + n], want));
    }
  }
  // One row at a time, and columns in two pieces: the same bits.
  std::vector<float> C2(C.size());
  for (int64_t m = 0; m < M; ++m) {
    gemm_f32_ref(1, 16, K, A.data() + m * K, K, Bp.data(), N, bias.data(), C2.data() + m * N, N);
    gemm_f32_ref(1, N - 16, K, A.data() + m * K, K, Bp.data() + 16, N, bias.data() + 16,
                 C2.data() + m * N + 16, N);
  }
  CHECK(std::memcmp(C.data(), C2.data(), C.size() * sizeof(float)) == 0);
}

TEST_CASE("softmax_f32_ref: sums to one, stable for large inputs") {
  float x[4] = {1000.0f, 999.0f, 998.0f, -1000.0f};
  softmax_f32_ref(4, x);
  const double e1 = std::exp(-1.0), e2 = std::exp(-2.0), s = 1 + e1 + e2;
  CHECK(close(x[0], 1 / s));
  CHECK(close(x[1], e1 / s));
  CHECK(close(x[2], e2 / s));
  CHECK(x[3] == 0.0f);
}

TEST_CASE("lstm_cell_f32_ref: one unit by hand, with peepholes, clip and input_forget") {
  // H = 1: gates i, f, g, o at offsets 0..3.
  const float gx[4] = {0.2f, -0.4f, 0.9f, 0.1f};
  const float rec[4] = {0.1f, 0.3f, 0.5f, -0.6f};
  const float P[3] = {0.5f, -0.25f, 0.75f};
  LstmCellParams p;
  p.f = {ActKind::sigmoid, 0, 0};
  p.g = {ActKind::tanh, 0, 0};
  p.h = {ActKind::tanh, 0, 0};
  p.H = 1;
  p.P = P;
  p.clip = 1.2f;
  auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
  auto clip = [](double v) { return std::min(1.2, std::max(-1.2, v)); };
  for (bool cifg : {false, true}) {
    CAPTURE(cifg);
    p.input_forget = cifg;
    float c = 0.8f, h = 0;
    lstm_cell_f32_ref(p, 1, gx, rec, &c, &h);
    const double c0 = 0.8;
    const double i = sig(clip(double(gx[0]) + rec[0] + P[0] * c0));
    const double f = cifg ? 1 - i : sig(clip(double(gx[1]) + rec[1] + P[1] * c0));
    const double g = std::tanh(clip(double(gx[2]) + rec[2]));
    const double c1 = f * c0 + i * g;
    const double o = sig(clip(double(gx[3]) + rec[3] + P[2] * c1));
    CHECK(close(c, c1));
    CHECK(close(h, o * std::tanh(c1)));
  }
}

TEST_CASE("gru_cell_f32_ref: one unit by hand, both linear_before_reset settings") {
  const float gx[3] = {0.3f, -0.2f, 0.4f};
  const float rec[3] = {-0.1f, 0.5f, 0.7f};
  const float h_prev = 0.6f;
  GruCellParams p;
  p.f = {ActKind::sigmoid, 0, 0};
  p.g = {ActKind::tanh, 0, 0};
  p.H = 1;
  auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
  const double z = sig(double(gx[0]) + rec[0]), r = sig(double(gx[1]) + rec[1]);
  for (bool lbr : {false, true}) {
    CAPTURE(lbr);
    p.linear_before_reset = lbr;
    float h = 0;
    gru_cell_f32_ref(p, 1, gx, rec, &h_prev, &h);
    // rec_n means R_n h + Rb_n (lbr) or R_n (r h) + Rb_n (not lbr): the caller computed it.
    const double n = std::tanh(lbr ? gx[2] + r * rec[2] : double(gx[2]) + rec[2]);
    CHECK(close(h, (1 - z) * n + z * h_prev));
  }
  float rh = 0;
  gru_reset_f32_ref(p, 1, gx, rec, &h_prev, &rh);
  CHECK(close(rh, r * h_prev));
}
