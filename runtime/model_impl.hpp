// Model::Impl: a validated model with its weights packed for the chosen kernel table. Built
// once by load/from_spec (runtime/model.cpp, runtime/pack.cpp), then only read (shared by every
// run/step on every thread).
#pragma once

#include <optional>
#include <variant>
#include <vector>

#include "kernels/kernels.hpp"
#include "kernels/recurrent.hpp"
#include "recur/model.hpp"
#include "runtime/aligned_floats.hpp"

namespace recur {

// A direction on the gate-panel kernels (kernels/recurrent.hpp): W and R as gate panels, the
// biases that are simply added folded into one.
struct PanelWeights {
  kernels::PanelShape w_shape;   // W (G*H, I)
  kernels::PanelShape r_shape;   // R (G*H, H); gru without linear_before_reset: the z, r rows
  kernels::PanelShape n_shape;   // gru without linear_before_reset: R_n (H, H); else unused
  AlignedFloats W;
  AlignedFloats R;
  AlignedFloats Rn;              // gru without linear_before_reset only
  std::vector<float> bias;       // (G*H) Wb + Rb, without Rb_n for gru with linear_before_reset
  std::vector<float> rb_n;       // gru with linear_before_reset: Rb_n (H), inside r ⊙ (...)
};

// A direction on the generic kernels (KernelTable::gemm and the cells): any activation, clip,
// peepholes, projection. Matrices in the layout of KernelTable::pack.
struct GenericWeights {
  std::vector<float> W;    // (G*H, I)
  std::vector<float> R;    // (G*H, Hout)
  std::vector<float> Wb;   // (G*H)
  std::vector<float> Rb;   // (G*H)
  std::vector<float> P;    // (3*H) peepholes i, f, o; empty without peepholes
  std::vector<float> Wp;   // (Hout, H) projection; empty without proj_size
};

// One direction of a layer. G = gates, H = hidden units, Hout = output units, I = input width.
struct PackedDirection {
  kernels::Act f, g, h;    // activations of this direction (h: lstm only)
  std::variant<GenericWeights, PanelWeights> weights;  // PackedLayer::gate_panels says which

  const PanelWeights& panels() const { return std::get<PanelWeights>(weights); }
  const GenericWeights& generic() const { return std::get<GenericWeights>(weights); }
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
  bool gate_panels = false;     // on the gate-panel kernels (runtime/panel_layer.hpp), else generic
  bool recurrent_bf16 = false;  // R rounded to bfloat16 (LoadOptions::recurrent_weights)
  std::vector<PackedDirection> dir;

  int64_t gate_width() const { return G * H; }
  int64_t width() const { return dirs * Hout; }  // per-step output width
  // Whether direction d runs backwards in time.
  bool reversed(int d) const {
    return direction == Direction::reverse || (direction == Direction::bidirectional && d == 1);
  }
  // gru without linear_before_reset: on gate panels, the step runs in two phases (z, r; then n).
  bool gru_two_phase() const { return cell == CellType::gru && !linear_before_reset; }
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
  ModelConfig config;                  // what Model::config() reports
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

// Which kernels a model's layers run on: `best` puts every layer the gate-panel kernels cover
// on them; `generic` keeps all on the generic kernels (tests compare the two paths).
enum class LayerKernels { best, generic };

// Model::from_spec with the choice above (Model::from_spec is `best`).
struct ModelFactory {
  static Result<Model> from_spec(const ModelSpec& spec, const LoadOptions& options, LayerKernels kernels);
};

}  // namespace recur
