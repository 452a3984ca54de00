// pack_panels_f32 (portable, runs once at load) and the aligned storage for packed panels.
// Layout in kernels/recurrent.hpp: out[p][k][g][s][v] = W[g*H + (p*S + s)*V + v][k], 0 past H.
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
  const int64_t pu = S * V;          // units per panel
  const int64_t lanes = G * pu;      // floats per k inside a panel
  constexpr int64_t kTileK = 16;     // k per tile: one 64-byte line of each W row
  constexpr int64_t kMaxLanes = 256; // G*S*V <= 4*4*16
  float tile[kMaxLanes][kTileK];     // (lanes, k) gathered rows, transposed on the way out
  for (int64_t p = 0; p < sh.panels(); ++p) {
    float* panel = out + p * sh.panel_floats();
    for (int64_t k0 = 0; k0 < K; k0 += kTileK) {
      const int64_t nk = k0 + kTileK < K ? kTileK : K - k0;
      // Gather: lane (g, l) is row g*H + p*pu + l of W, or zeros past H.
      for (int64_t g = 0; g < G; ++g) {
        for (int64_t l = 0; l < pu; ++l) {
          const int64_t j = p * pu + l;
          float* t = tile[g * pu + l];
          if (j < H) {
            const float* w = W + (g * H + j) * K + k0;
            for (int64_t k = 0; k < nk; ++k) t[k] = w[k];
          } else {
            for (int64_t k = 0; k < nk; ++k) t[k] = 0.0f;
          }
        }
      }
      // Scatter: contiguous rows of `lanes` floats per k.
      for (int64_t k = 0; k < nk; ++k) {
        float* dst = panel + (k0 + k) * lanes;
        for (int64_t c = 0; c < lanes; ++c) dst[c] = tile[c][k];
      }
    }
  }
}

}  // namespace recur::kernels
