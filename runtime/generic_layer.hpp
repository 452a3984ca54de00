// A layer on the generic kernels (KernelTable: GEMM + cell kernels; any activation, clip,
// peepholes, projection): advance(), one time step of one direction for a batch of rows, is the
// shared core of run() and step(), so both execute the same kernels in the same order (bitwise
// equal); run_generic_layer is run()'s time loop over it. Also the head, on the same GEMM.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/model_impl.hpp"
#include "runtime/sequence.hpp"

namespace recur {

// Scratch for advance(), sized once for the widest layer of a model at batch B.
struct StepScratch {
  int64_t batch = 0;
  std::vector<float> rec;            // (B, G*H)  R h + Rb
  std::vector<float> rh;             // (B, H)    gru: r ⊙ h (linear_before_reset off)
  std::vector<float> hc;             // (B, H)    lstm with projection: o ⊙ h(c)
  std::vector<float> h_next;         // (B, Hout) the state after the step
  std::vector<const float*> gx_rows; // (B)       each row's W x + Wb for this step
  std::vector<uint8_t> active;       // (B)       1 = the row takes this step

  void size_for(const Model::Impl& model, int64_t batch);
};

// Advances direction d of `layer` by one step for B = scratch.batch rows.
//   gx_rows[b] (G*H)         W x_t + Wb of row b at this step (ignored for inactive rows)
//   h (B, Hout), ldh         state before the step
//   c (B, H), ldc            lstm cell state: updated in place on active rows (else unused)
// Result in scratch.h_next (B, Hout), dense: the new state of active rows, h copied for
// inactive rows. Threads split gate columns / hidden units, never changing a value.
void advance(const Model::Impl& model, const PackedLayer& layer, int d, const float* h,
             int64_t ldh, float* c, int64_t ldc, StepScratch& scratch, int threads);

// The buffers of run_generic_layer; run() keeps one for its layers.
struct GenericWorkspace {
  std::vector<float> gx;   // (T*B, G*H) one direction's W x + Wb
  std::vector<float> h;    // (B, Hout) the state during the loop
  std::vector<float> c;    // (B, H) lstm cell state
  StepScratch scratch;
};

// One layer of run(), direction after direction: the input projection of all T*B rows in one
// GEMM, then the time loop over advance().
void run_generic_layer(const Model::Impl& model, const PackedLayer& layer, const Sequence& seq,
                       const LayerIO& io, GenericWorkspace& ws, int threads);

// Layer input projection for M rows: gx (M, G*H) = x (M, I), ld_x · W + Wb.
void input_projection(const Model::Impl& model, const PackedLayer& layer, int d, int64_t M,
                      const float* x, int64_t ld_x, float* gx, int threads);

// Dense head for M rows: y (M, out) = in (M, head.in), ld_in · W + b, softmax if asked.
void apply_head(const Model::Impl& model, int64_t M, const float* in, int64_t ld_in, float* y,
                int threads);

}  // namespace recur
