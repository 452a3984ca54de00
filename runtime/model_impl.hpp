// Model::Impl: a validated model with its weights packed for the chosen kernel table. Built
// once by load/from_spec, then only read (shared by every run/step on every thread).
#pragma once

#include <optional>
#include <vector>

#include "kernels/kernels.hpp"
#include "kernels/recurrent.hpp"
#include "recur/model.hpp"
#include "runtime/int8_layer.hpp"

namespace recur {

// One direction of a layer. G = gates, H = hidden units, Hout = output units, I = input width.
struct PackedDirection {
  std::vector<float> W;    // (G*H, I) packed by kernels.pack
  std::vector<float> R;    // (G*H, Hout) packed
  std::vector<float> Wb;   // (G*H)
  std::vector<float> Rb;   // (G*H)
  std::vector<float> P;    // (3*H) peepholes i, f, o; empty without peepholes
  std::vector<float> Wp;   // (Hout, H) packed projection; empty without proj_size
  kernels::Act f, g, h;    // activations of this direction (h: lstm only)
  // Fast path (PackedLayer::fast): gate panels for kernels.fast instead of W and R above.
  kernels::AlignedFloats Wf;   // W (G*H, I) as panels
  kernels::AlignedFloats Rf;   // R (G*H, H) as panels; gru without lbr: the z, r rows only
  kernels::AlignedFloats Rnf;  // gru without lbr: R_n (H, H) as panels
  std::vector<float> bias;     // (G*H) Wb + Rb (gru with lbr: Rb_n is kept apart in Rb)
  std::shared_ptr<const Int8Direction> int8;  // PackedLayer::int8: the quantized W, R, Wp
};

struct PackedLayer {
  CellType cell = CellType::lstm;
  Direction direction = Direction::forward;
  int dirs = 1;            // 1 or 2 (forward first)
  int64_t I = 0;           // input width
  int64_t H = 0;           // hidden units
  int64_t Hout = 0;        // output units (proj_size or H)
  int64_t G = 0;           // gates
  float clip = 0.0f;
  bool input_forget = false;
  bool linear_before_reset = false;
  int64_t state_row = 0;   // first row of this layer in h0/h_n/c0/c_n
  bool fast = false;       // runs on the fused kernels (runtime/fast_recurrence.hpp)
  bool recurrent_bf16 = false;  // R rounded to bfloat16 (LoadOptions::recurrent_weights)
  bool int8 = false;       // int8 products (LoadOptions::precision, runtime/int8_layer.hpp)
  std::vector<PackedDirection> dir;

  int64_t gate_width() const { return G * H; }
  int64_t width() const { return dirs * Hout; }  // per-step output width
  // Whether direction d runs backwards in time.
  bool reversed(int d) const {
    return direction == Direction::reverse || (direction == Direction::bidirectional && d == 1);
  }
};

struct PackedHead {
  int64_t in = 0;
  int64_t out = 0;
  bool softmax = false;
  bool last_step_only = false;
  std::vector<float> W;  // (out, in) packed
  std::vector<float> b;  // (out)
};

struct Model::Impl {
  ModelSpec spec;                      // attributes only; weight tensors dropped
  Isa isa = Isa::scalar;
  const kernels::KernelTable* k = nullptr;
  std::vector<PackedLayer> layers;
  std::optional<PackedHead> head;

  int64_t input_size = 0;
  int64_t output_size = 0;             // per-step width of y
  int64_t state_rows = 0;              // sum of directions over layers (L*D)
  int64_t h_width = 0;                 // widest Hout: h0/h_n are (state_rows, B, h_width)
  int64_t c_width = 0;                 // widest lstm H: c0/c_n are (state_rows, B, c_width); 0 = none
  bool streamable = true;              // no reverse/bidirectional layer: step() works

  // Widest per-layer quantities, for sizing scratch.
  int64_t max_gate_width = 0;          // G*H
  int64_t max_hidden = 0;              // H
  int64_t max_hout = 0;                // Hout
  int64_t max_width = 0;               // layer output width D*Hout
};

}  // namespace recur
