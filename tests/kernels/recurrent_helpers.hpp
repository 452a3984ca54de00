// Shared by the fast recurrent kernels' tests: the ISAs this CPU has (runtime's own probe), random data, packing, and
// one step run in two halves (the second sweeping backward).
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "kernels/kernels.hpp"
#include "kernels/recurrent.hpp"
#include "runtime/aligned_floats.hpp"
#include "runtime/isa.hpp"

namespace recur::kernels::testing {

using recur::AlignedFloats;  // runtime/aligned_floats.hpp: the panels' storage

struct IsaCase {
  const char* name;
  bool available;
  const RecurrentKernels* k;
};

inline std::vector<IsaCase> isas() {
  return {
      {"avx512", cpu_supports(Isa::avx512), &recurrent_f32_avx512()},
      {"avx2", cpu_supports(Isa::avx2), &recurrent_f32_avx2()},
      {"scalar", true, &recurrent_f32_scalar()},
  };
}

inline std::vector<float> random_vec(std::mt19937& rng, int64_t n, float scale) {
  std::uniform_real_distribution<float> d(-scale, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = d(rng);
  return v;
}

inline void check_close(const std::vector<float>& got, const std::vector<float>& want, const std::string& what) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    const float tol = 1e-5f + 1e-4f * std::fabs(want[i]);
    if (!(std::fabs(got[i] - want[i]) <= tol)) {
      FAIL_CHECK(what << "[" << i << "]: got " << got[i] << ", want " << want[i]);
      return;
    }
  }
}

// rec (B, N) = h (B, K) · W^T (W (N, K)) + bias, by the reference GEMM.
inline std::vector<float> ref_product(const std::vector<float>& h, int64_t B, int64_t K,
                                      const std::vector<float>& W, int64_t N, const float* bias) {
  std::vector<float> Wt(static_cast<size_t>(N * K)), out(static_cast<size_t>(B * N));
  pack_kn_f32_ref(N, K, W.data(), Wt.data());
  gemm_f32_ref(B, N, K, h.data(), K, Wt.data(), N, bias, out.data(), N);
  return out;
}

inline AlignedFloats pack(const RecurrentKernels& k, int64_t G, int64_t H, int64_t K, const float* W,
                          bool bf16 = false) {
  const PanelShape sh = k.shape(G, H, K, bf16);
  AlignedFloats out(sh.floats());
  pack_panels_f32(sh, W, out.data());
  return out;
}

// W (G*H, K) packed as a loader does it: NaN-filled storage, the padding zeroed, then rows in
// chunks of random sizes, last chunk first.
inline AlignedFloats pack_in_chunks(const PanelShape& sh, const std::vector<float>& W, std::mt19937& rng) {
  AlignedFloats out(sh.floats());
  std::fill(out.data(), out.data() + sh.floats(), std::nanf(""));
  zero_panel_padding(sh, out.data());
  std::vector<std::pair<int64_t, int64_t>> chunks;
  const int64_t rows = sh.G * sh.H;
  for (int64_t r = 0; r < rows;) {
    const int64_t n = std::min<int64_t>(rows - r, 1 + static_cast<int64_t>(rng() % 40));
    chunks.emplace_back(r, n);
    r += n;
  }
  for (auto c = chunks.rbegin(); c != chunks.rend(); ++c) {
    pack_panel_rows(sh, c->first, c->second, W.data() + c->first * sh.K, out.data());
  }
  return out;
}

// Runs one fused step over all panels, in two halves. gx rows: row 3 inactive when B > 3.
struct StepCase {
  int64_t B, H;
  std::vector<float> h, gx;           // (B, H), (B, G*H)
  std::vector<const float*> gx_rows;  // (B)
  StepCase(std::mt19937& rng, int64_t b, int64_t hid, int64_t G) : B(b), H(hid) {
    h = random_vec(rng, B * H, 1.0f);
    gx = random_vec(rng, B * G * H, 2.0f);
    for (int64_t r = 0; r < B; ++r) gx_rows.push_back(r == 3 ? nullptr : gx.data() + r * G * H);
  }
  bool active(int64_t r) const { return gx_rows[static_cast<size_t>(r)] != nullptr; }
};

// The second half sweeps its panels backward (the zig-zag order of odd steps).
inline void run_halves(StepFn fn, StepArgs a) {
  const int64_t half = a.shape.panels() / 2;
  fn(a, 0, half);
  a.backward = true;
  fn(a, half, a.shape.panels());
}

}  // namespace recur::kernels::testing
