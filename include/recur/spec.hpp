// ModelSpec: the plain description of a recurrent model — layers, attributes and fp32 weights
// in recur's canonical layout. Converters build it, the .recur writer stores it, the reader
// returns it, and Model packs it. See formats/SPEC.md for the meaning of every field.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "recur/export.h"
#include "recur/status.hpp"

namespace recur {

enum class CellType { rnn, lstm, gru };
enum class Direction { forward, reverse, bidirectional };

RECUR_API const char* cell_name(CellType cell) noexcept;          // "rnn", "lstm", "gru"
RECUR_API const char* direction_name(Direction dir) noexcept;     // "forward", "reverse", "bidirectional"

// Gates per cell: rnn 1, lstm 4 (i, f, g, o), gru 3 (z, r, n).
RECUR_API int gate_count(CellType cell) noexcept;
// Activation functions per direction, in ONNX order: rnn 1 (f), lstm 3 (f, g, h), gru 2 (f, g).
RECUR_API int activation_count(CellType cell) noexcept;
inline int direction_count(Direction dir) noexcept { return dir == Direction::bidirectional ? 2 : 1; }

// An activation function by its ONNX name: Sigmoid, Tanh, Relu, HardSigmoid, LeakyRelu,
// ThresholdedRelu, ScaledTanh, Affine, Elu, Softsign, Softplus. alpha/beta as ONNX defines them.
struct RECUR_API Activation {
  std::string name;
  float alpha = 0.0f;
  float beta = 0.0f;
  bool operator==(const Activation& o) const {
    return name == o.name && alpha == o.alpha && beta == o.beta;
  }
};
RECUR_API bool is_known_activation(const std::string& name) noexcept;
// The ONNX defaults for a name (e.g. LeakyRelu alpha 0.01); false if the name is unknown.
RECUR_API bool activation_with_defaults(const std::string& name, Activation& out) noexcept;

// A dense row-major fp32 tensor that owns its data.
struct RECUR_API Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;

  bool empty() const noexcept { return data.empty() && shape.empty(); }
  int64_t numel() const noexcept { return static_cast<int64_t>(data.size()); }
  bool operator==(const Tensor& o) const { return shape == o.shape && data == o.data; }
};
RECUR_API Tensor make_tensor(std::vector<int64_t> shape, float fill = 0.0f);

// Weights of one direction of a recurrent layer. G = gate_count, H = hidden_size,
// Hout = proj_size if > 0 else H, I = the layer's input_size. Gate blocks are stacked in the
// canonical order: lstm i, f, g, o; gru z, r, n; rnn the single gate.
struct RECUR_API DirectionWeights {
  Tensor W;   // (G*H, I)    input weights
  Tensor R;   // (G*H, Hout) recurrent weights
  Tensor Wb;  // (G*H)       input bias
  Tensor Rb;  // (G*H)       recurrent bias (kept apart: GRU's n gate needs it separately)
  Tensor P;   // (3*H)       lstm peepholes i, f, o; empty when the layer has none
  Tensor Wp;  // (Hout, H)   lstm projection (PyTorch proj_size); empty when proj_size == 0
  bool operator==(const DirectionWeights& o) const {
    return W == o.W && R == o.R && Wb == o.Wb && Rb == o.Rb && P == o.P && Wp == o.Wp;
  }
};

// A recurrent layer's attributes: what it computes, without its weights.
struct RECUR_API LayerConfig {
  CellType cell = CellType::lstm;
  Direction direction = Direction::forward;
  int64_t input_size = 0;
  int64_t hidden_size = 0;
  int64_t proj_size = 0;  // lstm only; 0 = no projection
  // activation_count(cell) * direction_count(direction) entries (forward's first), or empty
  // for the defaults: rnn Tanh; lstm Sigmoid, Tanh, Tanh; gru Sigmoid, Tanh.
  std::vector<Activation> activations;
  float clip = 0.0f;                // > 0: pre-activations clipped to [-clip, clip] (ONNX)
  bool input_forget = false;        // lstm: couple input and forget gate, f = 1 - i (ONNX)
  bool linear_before_reset = false; // gru: n = g(Wx + Wb + r*(R h + Rb)) (PyTorch = true)
  bool peepholes = false;           // lstm: P present

  int64_t output_size() const noexcept { return proj_size > 0 ? proj_size : hidden_size; }
  // Width of this layer's per-step output: directions * Hout.
  int64_t output_width() const noexcept { return direction_count(direction) * output_size(); }
  bool operator==(const LayerConfig& o) const;
};

struct RECUR_API RecurrentLayer : LayerConfig {
  std::vector<DirectionWeights> weights;  // direction_count(direction) entries, forward first
  bool operator==(const RecurrentLayer& o) const;
};

// The head's attributes: y_t = W h_t + b, optionally softmax over y_t; for every step or for
// the last step only.
struct RECUR_API HeadConfig {
  int64_t input_size = 0;
  int64_t output_size = 0;
  bool softmax = false;
  bool last_step_only = false;
  bool operator==(const HeadConfig& o) const {
    return input_size == o.input_size && output_size == o.output_size && softmax == o.softmax &&
           last_step_only == o.last_step_only;
  }
};

struct RECUR_API DenseHead : HeadConfig {
  Tensor W;  // (output_size, input_size)
  Tensor b;  // (output_size)
  bool operator==(const DenseHead& o) const { return HeadConfig::operator==(o) && W == o.W && b == o.b; }
};

// A token-id front layer (formats/SPEC.md §3.3): the input of the first recurrent layer at step
// t is row ids[t] of the table. Ids outside 0..vocab_size-1 are an error at run time.
struct RECUR_API Embedding {
  int64_t vocab_size = 0;
  int64_t dim = 0;  // the first recurrent layer's input_size
  Tensor table;     // (vocab_size, dim)
  bool operator==(const Embedding& o) const {
    return vocab_size == o.vocab_size && dim == o.dim && table == o.table;
  }
};

// y as final hidden states instead of the last layer's per-step output (formats/SPEC.md §3.4):
// rows [first_row, first_row + rows) of h_n, each of width W (those rows' common Hout), shaped
// (rows, B, W), or (B, W) with squeeze (rows == 1). What ONNX graphs returning Y_h compute.
struct RECUR_API FinalStateOutput {
  int64_t first_row = 0;
  int64_t rows = 1;
  bool squeeze = false;
  bool operator==(const FinalStateOutput& o) const {
    return first_row == o.first_row && rows == o.rows && squeeze == o.squeeze;
  }
};

struct RECUR_API ModelSpec {
  std::string name;
  std::string producer;     // what wrote it, e.g. "recur-convert 0.1"
  std::string source;       // what it was made from, e.g. "model.onnx"
  std::string source_hash;  // xxh64 of the source file, hex; may be empty
  bool batch_first = false; // default input/output layout: (B, T, ·) instead of (T, B, ·)
  std::map<std::string, std::string> metadata;  // free-form user key/values (e.g. normalization)
  std::optional<Embedding> embedding;           // token ids in instead of x
  std::vector<RecurrentLayer> layers;
  std::optional<DenseHead> head;
  std::optional<FinalStateOutput> final_state;  // y = final states (no head then)
  // The model's default initial state, used where a run or a new State gets no h0 / c0: rows
  // like h0 (S, Hs) and c0 (S, Cs) for one sequence, the same for every batch element; empty =
  // zeros. S = state_rows(), Hs = state_width(), Cs = cell_width().
  Tensor initial_h;
  Tensor initial_c;

  int64_t input_size() const noexcept { return layers.empty() ? 0 : layers.front().input_size; }
  // Width of the model's per-step output: the head's output_size, the final state's width, else
  // the last layer's width.
  int64_t output_size() const noexcept;
  int64_t state_rows() const noexcept;   // S: directions summed over the layers
  int64_t state_width() const noexcept;  // Hs: the widest Hout
  int64_t cell_width() const noexcept;   // Cs: the widest lstm H, 0 without lstm layers
  // Whether the file needs format version 2 (formats/SPEC.md §7): an embedding, a final-state
  // output or a default initial state, which a 1.x reader would refuse or misread.
  bool needs_format_v2() const noexcept;
  int64_t parameter_count() const noexcept;
  bool operator==(const ModelSpec& o) const;
};

// Checks that the spec is a model recur can run: sizes positive and chained from layer to
// layer, every tensor present with exactly its expected shape, activations known and counted
// right, options valid for the cell. With check_finite, also that every weight is finite.
RECUR_API Status validate(const ModelSpec& spec, bool check_finite = true);
// The same checks short of the data: attributes and every tensor's shape (a reader streaming
// the weights checks their sizes and values as it reads them).
RECUR_API Status validate_shapes(const ModelSpec& spec);

}  // namespace recur
