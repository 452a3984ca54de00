// The fast path of run() and step() for layers the fused kernels cover (kernels/recurrent.hpp):
// default activations (lstm sigmoid/tanh/tanh, gru sigmoid/tanh, rnn tanh or relu), no clip,
// no peepholes, no projection, no input_forget. Everything else stays on recurrence.hpp.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/model_impl.hpp"
#include "runtime/recurrence.hpp"

namespace recur {

// Whether `layer` (whose directions' activations are already in `dirs`) runs on k.fast.
bool fast_path_applies(const kernels::KernelTable& k, const RecurrentLayer& layer,
                       const std::vector<PackedDirection>& dirs);

// Packing one direction for k, in three parts so a loader can pack W and R while it reads them:
// alloc_fast sizes the gate panels (padding zeroed); pack_fast_rows packs rows [row0, row0 + n)
// of the canonical W (G*H, I) or R (G*H, H), in any order; pack_fast_biases folds the biases
// that are simply added into `bias` and keeps Rb (gru with linear_before_reset needs Rb_n
// inside r ⊙ (...)).
enum class FastMatrix { W, R };
void alloc_fast(const kernels::RecurrentKernels& k, const PackedLayer& layer, PackedDirection& pd);
void pack_fast_rows(const kernels::RecurrentKernels& k, const PackedLayer& layer, FastMatrix which,
                    int64_t row0, int64_t n, const float* rows, PackedDirection& pd);
void pack_fast_biases(const PackedLayer& layer, const DirectionWeights& w, PackedDirection& pd);

// One layer of run(), every direction, over all T steps. Rows of x, y follow (T, B, ·) or
// (B, T, ·) when batch_first. Directions run concurrently when threads >= 2.
struct FastLayerIO {
  int64_t T = 0, B = 0;
  bool batch_first = false;
  const int64_t* len = nullptr;  // (B) steps each row takes
  int64_t steps = 0;             // max of len
  const float* x = nullptr;      // (T*B, x_width) layer input
  int64_t x_width = 0;
  const float* h0 = nullptr;     // (L*D, B, h_width) or null
  int64_t h_width = 0;
  const float* c0 = nullptr;     // (L*D, B, c_width) or null
  int64_t c_width = 0;
  float* y = nullptr;            // (T*B, D*H) layer output, zero where a row has no step
  float* h_n = nullptr;          // (L*D, B, h_width)
  float* c_n = nullptr;          // (L*D, B, c_width) or null
};
void run_fast_layer(const Model::Impl& m, const PackedLayer& layer, const FastLayerIO& io,
                    int threads);

// One step of a forward layer for B rows (step()): gx (B, G*H) scratch, h (B, H) ld ldh the
// state, c (B, H) ld ldc updated in place; the new state goes to s.h_next (B, H) dense.
void step_fast_layer(const Model::Impl& m, const PackedLayer& layer, int64_t B, const float* x,
                     int64_t ld_x, float* gx, const float* h, int64_t ldh, float* c, int64_t ldc,
                     StepScratch& s, int threads);

}  // namespace recur
