// One ONNX LSTM/GRU/RNN node -> a recur layer (canonical gate order) and the same layer in the
// node's own layout for the fp64 source reference. Gates: ONNX i,o,f,c -> canonical i,f,g,o;
// GRU z,r,h = canonical; B = [Wb, Rb]; peepholes i,o,f -> i,f,o. The graph walk has already
// checked where X comes from; initial states and sequence_lens are the walk's too.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>

#include "tools/convert/onnx_constants.hpp"
#include "tools/convert/source_reference.hpp"

namespace recur::convert {

struct RnnNode {
  RecurrentLayer layer;  // canonical
  NativeLayer native;    // as the node stores it
};

CellType rnn_cell(const onnx::NodeProto& n);  // by op type: LSTM, GRU, RNN
// Every attribute must be one the op defines.
Status check_rnn_attributes(const onnx::NodeProto& n);
// W, R and the optional B and P (constants), direction, hidden_size, clip, activations.
// `input_width`: features of X when known (-1: take W's).
Result<RnnNode> translate_rnn(const onnx::NodeProto& n, const OnnxConstants& consts, int64_t input_width);

}  // namespace recur::convert
