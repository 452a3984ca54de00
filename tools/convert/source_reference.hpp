// An fp64 forward pass over recurrent layers held in their SOURCE layout: gates stacked in the
// source's order (named by letters), optionally transposed storage (Keras), ONNX activations,
// clip, input_forget, peepholes in the source's order, and the seed LSTM_v1's four Linears over
// [x_t, h_t]. The importers reorder into recur's canonical layout; this evaluator never does,
// so a wrong reordering shows up as a mismatch in the self-check.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "recur/spec.hpp"
#include "recur/status.hpp"

namespace recur::convert {

struct NativeDirection {
  Tensor W;   // (G*H, I) gates in NativeLayer::gate_order, or (I, G*H) when transposed
  Tensor R;   // (G*H, Hout), or (Hout, G*H) when transposed
  Tensor Wb;  // (G*H) or empty (zero)
  Tensor Rb;  // (G*H) or empty (zero)
  Tensor P;   // (3H) peepholes in NativeLayer::peephole_order, or empty
  Tensor Wp;  // (Hout, H) lstm projection, or empty
  // lstm_v1 only: Linear weights (H, I+H) over [x_t, h_t] and biases (H) for gates f, i, c, o.
  std::vector<Tensor> v1_W, v1_b;
};

struct NativeLayer {
  CellType cell = CellType::lstm;
  bool lstm_v1 = false;
  std::string gate_order;               // lstm letters i f g o; gru z r n; rnn "h"
  std::string peephole_order = "iof";
  bool transposed = false;              // Keras kernel storage
  Direction direction = Direction::forward;
  int64_t input_size = 0, hidden_size = 0, proj_size = 0;
  std::vector<Activation> activations;  // as in RecurrentLayer (ONNX order, forward first)
  float clip = 0.0f;
  bool input_forget = false;
  bool linear_before_reset = false;
  std::vector<NativeDirection> dirs;
};

struct NativeHead {
  Tensor W;                 // (out, in), or (in, out) when transposed
  bool transposed = false;
  Tensor b;                 // (out) or empty
  bool softmax = false;
  bool last_step = false;
};

struct NativeModel {
  bool batch_first = false;
  Tensor embedding;  // (V, E) token-id table, or empty: x holds features
  std::vector<NativeLayer> layers;
  std::optional<NativeHead> head;
  std::optional<FinalStateOutput> final_state;  // y = these rows of h_n (ModelSpec::final_state)
  Tensor initial_h, initial_c;                  // (S, Hs) / (S, Cs) starting state, or empty
};

// x: (T, B, I) or (B, T, I) when batch_first; with an embedding, token ids (T, B) or (B, T) held
// as doubles. Returns y like RunOutput::y.
Result<std::vector<double>> evaluate_native(const NativeModel& model, const std::vector<double>& x,
                                            int64_t T, int64_t B);

// ONNX activation functions in fp64 (name, alpha, beta as ONNX defines them).
double apply_activation(const Activation& act, double x);

}  // namespace recur::convert
