// run() and step() of a layer on the gate-panel kernels (kernels/recurrent.hpp): the default
// activations (lstm sigmoid/tanh/tanh, gru sigmoid/tanh, rnn tanh or relu), no clip, peepholes,
// projection or input_forget (runtime/pack.hpp decides). Everything else runs on
// runtime/generic_layer.hpp.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/model_impl.hpp"
#include "runtime/plan.hpp"
#include "runtime/sequence.hpp"

namespace recur {

// The buffers of run_panel_layer, sized per layer by its plan; run() keeps one for its layers.
struct PanelWorkspace {
  std::vector<float> h;                // (D, 2, B, H) the state, double-buffered
  std::vector<float> c;                // (D, B, H) lstm cell state
  std::vector<float> z, rh;            // (D, B, H) gru two-phase: update gate, r ⊙ h
  // (D, B, chunk, G*H) hoisted: a chunk's projection. Each row is written before a step reads
  // it, so the buffer is never zeroed.
  std::unique_ptr<float[]> gx;
  size_t gx_size = 0;
  std::vector<const float*> x_rows;    // (D, steps*B) hoisted: the inputs the GEMM gathers
  std::vector<int64_t> chunk_first;    // (D, groups, chunks + 1) hoisted: each chunk's first row
  std::vector<const float*> gx_rows;   // (D, steps, B) each step's rows (null: no step)
  std::vector<const float*> x_steps;   // (D, steps, B) fused: each step's inputs
  std::vector<float> zeros;            // (I) fused: what a row past its length reads
};

// One layer of run(), every direction, over all loop steps, as `plan` says.
void run_panel_layer(const Model::Impl& m, const PackedLayer& layer, const PanelLayerPlan& plan,
                     const Sequence& seq, const LayerIO& io, PanelWorkspace& ws);

// The scratch of step_panel_layer, sized once for a model's widest panel layer at batch B.
struct PanelStepScratch {
  std::vector<const float*> x_rows;   // (B) each row's input
  std::vector<const float*> gx_rows;  // (B) each row's projection
  std::vector<float> gx;              // (B, G*H)
  std::vector<float> h_next;          // (B, H) the state after the step
  std::vector<float> z, rh;           // (B, H) gru two-phase

  void size_for(const Model::Impl& model, int64_t B);
};

// One step of a forward layer for B rows (step()): x (B, ld_x), h (B, H) ld ldh the state,
// c (B, H) ld ldc updated in place; the new state goes to s.h_next (B, H) dense.
void step_panel_layer(const Model::Impl& m, const PackedLayer& layer, int64_t B, const float* x,
                      int64_t ld_x, const float* h, int64_t ldh, float* c, int64_t ldc,
                      PanelStepScratch& s, int threads);

}  // namespace recur
