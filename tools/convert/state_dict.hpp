// A PyTorch state_dict (from .pt/.pth or .safetensors) as named fp32 tensors, and its
// conversion into a ModelSpec: architecture from ArchOptions or inferred from the tensor names
// (weight_ih_l<k>[_reverse], weight_hh_*, bias_*, weight_hr_* and a Linear head), or the seed's
// LSTM_v1 module (f_gate, i_gate, c_cell, o_gate Linears over [x_t, h_t]).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "tools/convert/convert.hpp"

namespace recur::convert {

struct NamedTensor {
  std::string name;
  Tensor tensor;           // fp32 (converted from f64/f16/bf16 when the source held those)
  std::string dtype;       // the source dtype, e.g. "float32", "int64"
  bool is_float = true;    // false: an integer tensor (e.g. num_batches_tracked), data empty
};
using StateDict = std::vector<NamedTensor>;  // in file order

Result<Conversion> convert_state_dict(const StateDict& tensors, const std::string& path,
                                      SourceFormat format, const ConvertOptions& options);

}  // namespace recur::convert
