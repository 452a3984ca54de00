// recur_convert: turns a trained model from another framework into a recur::ModelSpec in the
// canonical layout (gate order lstm i,f,g,o / gru z,r,n), and keeps an fp64 evaluator of the
// SOURCE's own semantics (source gate order and storage) so the result can be self-checked.
// Nothing read from a source file is ever executed: pickles go through a restricted reader.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "recur/spec.hpp"
#include "recur/status.hpp"

namespace recur::convert {

enum class SourceFormat { onnx, torch, safetensors, keras, keras_h5 };
const char* source_format_name(SourceFormat format) noexcept;
// By extension (.onnx .pt .pth .bin .safetensors .keras .h5 .hdf5) and checked against the magic.
Result<SourceFormat> detect_format(const std::string& path);

// What a state_dict cannot say about itself (PyTorch .pt/.pth and .safetensors). Unset fields
// are inferred from the tensor names and shapes; every inference is reported in the notes.
struct ArchOptions {
  std::string arch;                  // "" infer | lstm | gru | rnn | lstm_v1
  int layers = 0;                    // 0: infer from weight_ih_l<k>
  std::optional<bool> bidirectional; // unset: infer from *_reverse
  int64_t proj_size = -1;            // -1: infer from weight_hr_l0
  std::optional<bool> batch_first;   // the module was built with batch_first=True / False;
                                     // unset: PyTorch's default for a bare nn.LSTM/GRU/RNN,
                                     // required when a wrapper or head makes it a guess
  std::string nonlinearity;          // rnn: "" (tanh, reported) | tanh | relu
  std::string prefix;                // recurrent tensors' key prefix, e.g. "lstm."; "" infer
  std::string head;                  // "" infer | none | linear
  std::string head_prefix;           // head tensors' key prefix, e.g. "fc."; "" infer
  bool softmax = false;              // softmax after the head
  std::optional<bool> last_step;     // head on the last step only (out[-1] / out[:, -1]) or at
                                     // every step; required when there is a head
};

struct ConvertOptions {
  ArchOptions arch;
  std::string name;  // model name in the .recur metadata; "" = the source's stem
  // Called with a short line while a large source is read (per layer / per tensor); may be empty.
  std::function<void(const std::string&)> progress;
};

// fp64 forward pass of the source model as the source framework defines it. x is laid out like
// Model::run's input for this spec ((T, B, I), or (B, T, I) when spec.batch_first); returns y
// laid out like RunOutput::y.
using ReferenceFn =
    std::function<Result<std::vector<double>>(const std::vector<double>& x, int64_t T, int64_t B)>;

struct Conversion {
  ModelSpec spec;                  // validated
  SourceFormat format = SourceFormat::onnx;
  std::vector<std::string> layers; // one human line per layer found, for the summary
  std::vector<std::string> notes;  // what was inferred, assumed or ignored
  // What the source does not state, taken from options or defaults instead: the self-check
  // compares recur with the converter's own reading of the source, so it cannot confirm these.
  std::vector<std::string> unchecked;
  ReferenceFn reference;           // the source's semantics, independent of the canonical reorder
};

// Dispatch on detect_format.
Result<Conversion> convert_file(const std::string& path, const ConvertOptions& options = {});

Result<Conversion> convert_onnx(const std::string& path, const ConvertOptions& options);
Result<Conversion> convert_torch(const std::string& path, const ConvertOptions& options);
Result<Conversion> convert_safetensors(const std::string& path, const ConvertOptions& options);
Result<Conversion> convert_keras(const std::string& path, const ConvertOptions& options);

}  // namespace recur::convert
