// rnn_cell_f32_ref, lstm_cell_f32_ref, gru_reset_f32_ref, gru_cell_f32_ref: the elementwise
// update of one batch row of a recurrent cell (equations in kernels/kernels.hpp). Units are
// processed in blocks of kBlock so that every stage is a plain loop over a small stack array:
// pre-activation sum, clip, activation, combine.
#include <algorithm>

#include "kernels/kernels.hpp"

namespace recur::kernels {

namespace {

constexpr int64_t kBlock = 64;  // units per block; the stack arrays below are 4 * 256 bytes

// out (m) = clip(gx (m) + rec (m)), then the activation.
inline void gate(const Act& act, float clip, int64_t m, const float* gx, const float* rec,
                 float* out) {
  for (int64_t k = 0; k < m; ++k) out[k] = gx[k] + rec[k];
  clip_f32_ref(clip, m, out);
  activation_f32_ref(act, m, out);
}

// As gate(), with a peephole term p ⊙ c added before clipping.
inline void gate_peep(const Act& act, float clip, int64_t m, const float* gx, const float* rec,
                      const float* p, const float* c, float* out) {
  for (int64_t k = 0; k < m; ++k) out[k] = gx[k] + rec[k] + p[k] * c[k];
  clip_f32_ref(clip, m, out);
  activation_f32_ref(act, m, out);
}

}  // namespace

void rnn_cell_f32_ref(const RnnCellParams& p, int64_t n, const float* gx, const float* rec,
                      float* h) {
  for (int64_t j = 0; j < n; j += kBlock) {
    const int64_t m = std::min(kBlock, n - j);
    gate(p.f, p.clip, m, gx + j, rec + j, h + j);
  }
}

void lstm_cell_f32_ref(const LstmCellParams& p, int64_t n, const float* gx, const float* rec,
                       float* c, float* hc) {
  const int64_t H = p.H;
  float i_g[kBlock], f_g[kBlock], g_g[kBlock], o_g[kBlock];
  for (int64_t j = 0; j < n; j += kBlock) {
    const int64_t m = std::min(kBlock, n - j);
    float* cj = c + j;  // (m) c_{t-1} in, c_t out
    // i, f from the old cell state (peepholes P_i, P_f).
    if (p.P) {
      gate_peep(p.f, p.clip, m, gx + j, rec + j, p.P + j, cj, i_g);
    } else {
      gate(p.f, p.clip, m, gx + j, rec + j, i_g);
    }
    if (p.input_forget) {
      for (int64_t k = 0; k < m; ++k) f_g[k] = 1.0f - i_g[k];
    } else if (p.P) {
      gate_peep(p.f, p.clip, m, gx + H + j, rec + H + j, p.P + H + j, cj, f_g);
    } else {
      gate(p.f, p.clip, m, gx + H + j, rec + H + j, f_g);
    }
    gate(p.g, p.clip, m, gx + 2 * H + j, rec + 2 * H + j, g_g);
    for (int64_t k = 0; k < m; ++k) cj[k] = f_g[k] * cj[k] + i_g[k] * g_g[k];
    // o from the new cell state (peephole P_o).
    if (p.P) {
      gate_peep(p.f, p.clip, m, gx + 3 * H + j, rec + 3 * H + j, p.P + 2 * H + j, cj, o_g);
    } else {
      gate(p.f, p.clip, m, gx + 3 * H + j, rec + 3 * H + j, o_g);
    }
    for (int64_t k = 0; k < m; ++k) g_g[k] = cj[k];  // reuse g_g for h(c_t)
    activation_f32_ref(p.h, m, g_g);
    for (int64_t k = 0; k < m; ++k) hc[j + k] = o_g[k] * g_g[k];
  }
}

void gru_reset_f32_ref(const GruCellParams& p, int64_t n, const float* gx, const float* rec,
                       const float* h_prev, float* rh) {
  const int64_t H = p.H;
  for (int64_t j = 0; j < n; j += kBlock) {
    const int64_t m = std::min(kBlock, n - j);
    gate(p.f, p.clip, m, gx + H + j, rec + H + j, rh + j);  // r
    for (int64_t k = 0; k < m; ++k) rh[j + k] *= h_prev[j + k];
  }
}

void gru_cell_f32_ref(const GruCellParams& p, int64_t n, const float* gx, const float* rec,
                      const float* h_prev, float* h) {
  const int64_t H = p.H;
  float z_g[kBlock], r_g[kBlock], n_g[kBlock];
  for (int64_t j = 0; j < n; j += kBlock) {
    const int64_t m = std::min(kBlock, n - j);
    gate(p.f, p.clip, m, gx + j, rec + j, z_g);
    const float* gxn = gx + 2 * H + j;
    const float* recn = rec + 2 * H + j;
    if (p.linear_before_reset) {
      gate(p.f, p.clip, m, gx + H + j, rec + H + j, r_g);
      for (int64_t k = 0; k < m; ++k) n_g[k] = gxn[k] + r_g[k] * recn[k];
    } else {
      for (int64_t k = 0; k < m; ++k) n_g[k] = gxn[k] + recn[k];
    }
    clip_f32_ref(p.clip, m, n_g);
    activation_f32_ref(p.g, m, n_g);
    for (int64_t k = 0; k < m; ++k) {
      h[j + k] = (1.0f - z_g[k]) * n_g[k] + z_g[k] * h_prev[j + k];
    }
  }
}

}  // namespace recur::kernels
