// PanelShape, pack_panel_rows and the bf16 conversions (portable; the packing runs once at load).
// Layouts in kernels/recurrent.hpp: fp32 out[p][k][g][s][v] = W[g*H + (p*S + s)*V + v][k], 0 past H;
// bf16 the same lanes with k and k + 1 in the low and high halves of one 32-bit word.
#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/recurrent.hpp"

namespace recur::kernels {

namespace {
constexpr int64_t kTile = 16;             // rows and k per tile: one 64-byte line each way

// dst[k * ld_dst + i] = src[i * ld_src + k] for a kTile x kTile tile: 4x4 SSE transposes where
// the baseline ISA has them (every x86-64), scalar elsewhere. Runs once at load.
void transpose_tile(const float* src, int64_t ld_src, float* dst, int64_t ld_dst) {
#if defined(__SSE2__)
  // The panels are written once and not read again at load: where the destination lines are
  // whole and aligned, stream them past the cache (no read-for-ownership of fresh pages).
  const bool stream = reinterpret_cast<uintptr_t>(dst) % 64 == 0 && ld_dst % 16 == 0;
  for (int64_t k = 0; k < kTile; k += 4) {
    for (int64_t i = 0; i < kTile; i += 4) {  // completes lines k..k+3 before the next four
      __m128 r0 = _mm_loadu_ps(src + (i + 0) * ld_src + k);
      __m128 r1 = _mm_loadu_ps(src + (i + 1) * ld_src + k);
      __m128 r2 = _mm_loadu_ps(src + (i + 2) * ld_src + k);
      __m128 r3 = _mm_loadu_ps(src + (i + 3) * ld_src + k);
      _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
      if (stream) {
        _mm_stream_ps(dst + (k + 0) * ld_dst + i, r0);
        _mm_stream_ps(dst + (k + 1) * ld_dst + i, r1);
        _mm_stream_ps(dst + (k + 2) * ld_dst + i, r2);
        _mm_stream_ps(dst + (k + 3) * ld_dst + i, r3);
      } else {
        _mm_storeu_ps(dst + (k + 0) * ld_dst + i, r0);
        _mm_storeu_ps(dst + (k + 1) * ld_dst + i, r1);
        _mm_storeu_ps(dst + (k + 2) * ld_dst + i, r2);
        _mm_storeu_ps(dst + (k + 3) * ld_dst + i, r3);
      }
    }
  }
#else
  for (int64_t k = 0; k < kTile; ++k) {
    for (int64_t i = 0; i < kTile; ++i) dst[k * ld_dst + i] = src[i * ld_src + k];
  }
#endif
}

// bf16 panels: rows [row0, row0 + n) into their halves of the words (layout in recurrent.hpp),
// in runs of consecutive lanes and tiles of k so each tile's lines are written while in cache.
void pack_bf16_rows(const PanelShape& sh, int64_t row0, int64_t n, const float* rows, float* out) {
  const int64_t H = sh.H, K = sh.K, pu = sh.units();
  const int64_t lanes = sh.G * pu;
  uint16_t* halves = reinterpret_cast<uint16_t*>(out);
  for (int64_t r = row0; r < row0 + n;) {
    const int64_t g = r / H, j = r % H, p = j / pu, l0 = j % pu;
    const int64_t run = std::min({pu - l0, H - j, row0 + n - r});
    const float* src = rows + (r - row0) * K;
    uint16_t* panel = halves + 2 * (p * sh.panel_floats() + g * pu + l0);
    for (int64_t k0 = 0; k0 < K; k0 += 2 * kTile) {
      const int64_t k1 = std::min(K, k0 + 2 * kTile);
      for (int64_t i = 0; i < run; ++i) {
        for (int64_t k = k0; k < k1; ++k) panel[2 * ((k / 2) * lanes + i) + (k & 1)] = to_bf16(src[i * K + k]);
      }
    }
    r += run;
  }
}

}  // namespace

int64_t PanelShape::units() const { return S * V; }
int64_t PanelShape::panels() const { return (H + units() - 1) / units(); }
int64_t PanelShape::k_rows() const { return bf16 ? (K + 1) / 2 : K; }
int64_t PanelShape::panel_floats() const { return k_rows() * G * S * V; }
int64_t PanelShape::floats() const { return panels() * panel_floats(); }

PanelShape RecurrentKernels::shape(int64_t G, int64_t H, int64_t K, bool bf16) const {
  const int64_t S = G >= 4 ? 1 : (G >= 2 ? 2 : 4);
  return PanelShape{G, H, K, V, S, bf16};
}

uint16_t to_bf16(float x) noexcept {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);  // round to nearest, ties to even (carries into the exponent)
  return static_cast<uint16_t>(u >> 16);
}

float from_bf16(uint16_t b) noexcept {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

int64_t first_bf16_overflow(const float* x, int64_t n) noexcept {
  for (int64_t i = 0; i < n; ++i) {
    if (std::isfinite(x[i]) && (to_bf16(x[i]) & 0x7fffu) == 0x7f80u) return i;
  }
  return n;
}

void zero_panel_padding(const PanelShape& sh, float* out) {
  if (sh.bf16) {  // the padding is spread over every word of an odd K: zero them all
    std::fill(out, out + sh.floats(), 0.0f);
    return;
  }
  const int64_t pu = sh.units();
  const int64_t used = sh.H - (sh.panels() - 1) * pu;  // units of the last panel below H
  if (used == pu) return;
  const int64_t lanes = sh.G * pu;
  float* last = out + (sh.panels() - 1) * sh.panel_floats();
  for (int64_t k = 0; k < sh.K; ++k) {
    for (int64_t g = 0; g < sh.G; ++g) {
      float* dst = last + k * lanes + g * pu + used;
      std::fill(dst, dst + (pu - used), 0.0f);
    }
  }
}

void pack_panel_rows(const PanelShape& sh, int64_t row0, int64_t n, const float* rows, float* out) {
  if (sh.bf16) return pack_bf16_rows(sh, row0, n, rows, out);
  const int64_t H = sh.H, K = sh.K, pu = sh.units();
  const int64_t lanes = sh.G * pu;  // floats per k inside a panel
  // A run: consecutive rows of one gate g inside one panel p, i.e. consecutive lanes. Each run
  // is moved in (16 rows x 16 k) tiles: 16 contiguous reads per row, 16 contiguous writes per k.
  for (int64_t r = row0; r < row0 + n;) {
    const int64_t g = r / H, j = r % H, p = j / pu, l0 = j % pu;
    const int64_t run = std::min({pu - l0, H - j, row0 + n - r});
    const float* src = rows + (r - row0) * K;
    float* panel = out + p * sh.panel_floats() + g * pu + l0;
    for (int64_t i0 = 0; i0 < run; i0 += kTile) {
      const int64_t ni = std::min(kTile, run - i0);
      for (int64_t k0 = 0; k0 < K; k0 += kTile) {
        const int64_t nk = std::min(kTile, K - k0);
        if (ni == kTile && nk == kTile) {
          transpose_tile(src + i0 * K + k0, K, panel + k0 * lanes + i0, lanes);
        } else {
          for (int64_t k = 0; k < nk; ++k) {
            float* dst = panel + (k0 + k) * lanes + i0;
            for (int64_t i = 0; i < ni; ++i) dst[i] = src[(i0 + i) * K + k0 + k];
          }
        }
      }
    }
    r += run;
  }
#if defined(__SSE2__)
  _mm_sfence();  // order the streaming stores before anyone reads the panels
#endif
}

void pack_panels_f32(const PanelShape& sh, const float* W, float* out) {
  zero_panel_padding(sh, out);
  pack_panel_rows(sh, 0, sh.G * sh.H, W, out);
}

}  // namespace recur::kernels
