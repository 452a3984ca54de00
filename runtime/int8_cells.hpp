// The fp32 cells of int8 layers with the default activations and none of clip, peepholes or
// input_forget, on the ISA's vector sigmoid/tanh over whole gate rows (the reference cells
// evaluate one unit at a time). Same equations as kernels/kernels.hpp's cells; each works on
// units [0, n) of one row, pointers offset to the first unit, gate g of unit j at [g*H + j].
#pragma once

#include <cstdint>

#include "kernels/kernels.hpp"
#include "kernels/recurrent.hpp"

namespace recur {

struct PackedLayer;
struct PackedDirection;

// Whether a direction's cells qualify (the activations are the cell's defaults, rnn: tanh).
bool vector_cells_apply(const PackedLayer& layer, const PackedDirection& w);

// pre (G*H) = gx + rec in place, then the cell; pre is scratch afterwards.
//   lstm: c = σ(f) c + σ(i) tanh(g), hc = σ(o) tanh(c)
void lstm_cells(const kernels::RecurrentKernels& v, int64_t H, int64_t n, const float* gx,
                float* pre, float* c, float* hc);
//   rnn: h = tanh(gx + rec)
void rnn_cells(const kernels::RecurrentKernels& v, int64_t n, const float* gx, float* pre, float* h);
//   gru reset (without linear_before_reset): rh = σ(gx_r + rec_r) ⊙ h_prev; rec_r is overwritten
void gru_reset_cells(const kernels::RecurrentKernels& v, int64_t H, int64_t n, const float* gx,
                     float* rec, const float* h_prev, float* rh);
//   gru: z = σ(gx_z + rec_z), n = tanh(gx_n + (lbr ? σ(gx_r + rec_r) ⊙ rec_n : rec_n)),
//        h = (1 - z) n + z h_prev; rec is overwritten
void gru_cells(const kernels::RecurrentKernels& v, int64_t H, int64_t n, bool linear_before_reset,
               const float* gx, float* rec, const float* h_prev, float* h);

}  // namespace recur
