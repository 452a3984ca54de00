// pack_panels_f32 (portable, runs once at load) and the aligned storage for packed panels.
// Layout in kernels/recurrent.hpp: out[p][k][g][s][v] = W[g*H + (p*S + s)*V + v][k], 0 past H.
#include <cstring>
#include <new>

#include "kernels/recurrent.hpp"

namespace recur::kernels {

namespace {
constexpr size_t kPanelAlign = 64;  // bytes: one cache line, one AVX-512 vector
}

AlignedFloats::AlignedFloats(int64_t n) : n_(n) {
  if (n <= 0) {
    n_ = 0;
    return;
  }
  size_t bytes = static_cast<size_t>(n) * sizeof(float);
  bytes = (bytes + kPanelAlign - 1) / kPanelAlign * kPanelAlign;
  void* p = std::aligned_alloc(kPanelAlign, bytes);
  if (!p) throw std::bad_alloc();
  p_.reset(static_cast<float*>(p));
}

void pack_panels_f32(const PanelShape& sh, const float* W, float* out) {
  const int64_t G = sh.G, H = sh.H, K = sh.K, V = sh.V, S = sh.S;
  const int64_t pu = S * V;               // units per panel
  const int64_t stride = G * S * V;       // floats per k inside a panel
  constexpr int64_t kBlockK = 16;         // k per tile: 64-byte reads, a 16*stride tile to write
  std::memset(out, 0, sizeof(float) * static_cast<size_t>(sh.floats()));
  for (int64_t p = 0; p < sh.panels(); ++p) {
    float* panel = out + p * sh.panel_floats();
    for (int64_t k0 = 0; k0 < K; k0 += kBlockK) {
      const int64_t k1 = k0 + kBlockK < K ? k0 + kBlockK : K;
      for (int64_t g = 0; g < G; ++g) {
        for (int64_t l = 0; l < pu; ++l) {
          const int64_t j = p * pu + l;  // unit
          if (j >= H) break;
          const float* w = W + (g * H + j) * K;  // (K) row of W
          float* dst = panel + g * pu + l;       // lane (g, s, v) = g*S*V + l
          for (int64_t k = k0; k < k1; ++k) dst[k * stride] = w[k];
        }
      }
    }
  }
}

}  // namespace recur::kernels
