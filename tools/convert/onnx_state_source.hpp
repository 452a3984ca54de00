// Where an LSTM/GRU/RNN node's initial_h / initial_c and sequence_lens come from, traced back
// through the glue exporters write around them: rows of one graph input (torch.onnx.export
// slices a stacked module's (h0, c0) per layer), a constant (a learned or fixed initial state,
// possibly expanded over the batch), or zeros; lengths from a graph input through Casts, or a
// constant.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "tools/convert/onnx_constants.hpp"

namespace recur::convert {

struct StateSource {
  enum Kind { zero, graph_input, constant } kind = zero;
  std::string input;       // graph_input: its name
  int64_t first_row = 0;   // graph_input: its rows [first_row, first_row + rows) ...
  int64_t rows = -1;       // ... or all of them (-1)
  // constant: one row per direction, each `width` values, the same for every batch element.
  std::vector<std::vector<double>> values;
};

// `name` is input `index` of node `n`; `width` the state's width (Hout, or H for c), `dirs` D.
Result<StateSource> trace_state(const OnnxConstants& consts, const std::set<std::string>& graph_inputs,
                                const onnx::NodeProto& n, const std::string& name, int64_t dirs, int64_t width);

struct LengthsSource {
  std::string input;              // a graph input (through Casts), or
  std::vector<int64_t> constant;  // the values of a constant
};
Result<LengthsSource> trace_lengths(const OnnxConstants& consts, const std::set<std::string>& graph_inputs,
                                    const onnx::NodeProto& n, const std::string& name);

}  // namespace recur::convert
