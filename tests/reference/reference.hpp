// The fp64 reference model: a plain, scalar implementation of every recur cell, option,
// direction, stack and head, written straight from the equations (formats/SPEC.md §5, the ONNX
// LSTM/GRU/RNN operators, PyTorch's nn.LSTM/GRU/RNN). It is the oracle the runtime is tested
// against and shares no code with runtime/ or kernels/. Slow on purpose: readable double loops.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "recur/spec.hpp"
#include "recur/status.hpp"

namespace recur::reference {

struct Input {
  std::vector<float> x;          // (T, B, I), or (B, T, I) when batch_first
  int64_t seq_len = 0;           // T
  int64_t batch = 0;             // B
  bool batch_first = false;
  std::vector<float> h0;         // (L*D, B, Hmax) or empty for zeros; Hmax = max Hout over layers
  std::vector<float> c0;         // (L*D, B, Cmax) or empty for zeros; Cmax = max H over lstm layers
  std::vector<int32_t> lengths;  // (B), each in [0, T], or empty for all T
};

// Shapes as recur::RunOutput: y (T, B, O) / (B, T, O) when batch_first / (B, O) when the head
// is last-step-only; h_n (L*D, B, Hmax); c_n (L*D, B, Cmax), empty without lstm layers. Rows
// narrower than the widest layer are zero-padded.
struct Output {
  std::vector<double> y;
  std::vector<int64_t> y_shape;
  std::vector<double> h_n;
  std::vector<int64_t> h_shape;
  std::vector<double> c_n;
  std::vector<int64_t> c_shape;
};

// Runs the whole model. invalid_argument when an input's size does not fit the spec.
// The spec itself is assumed valid (recur::validate).
Result<Output> run(const ModelSpec& spec, const Input& input);

// One activation function by its ONNX name with explicit alpha/beta, in double precision.
double activate(const Activation& act, double x);

// The activations a layer direction uses: the layer's own list, or the cell's defaults.
std::vector<Activation> direction_activations(const RecurrentLayer& layer, int direction);

}  // namespace recur::reference
