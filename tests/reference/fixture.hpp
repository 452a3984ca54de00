// Golden fixtures (tests/fixtures/golden/<case>/, made by scripts/fixtures/make_golden.py):
// loads case.json and its .npy files into a ModelSpec, the run inputs and the arrays the source
// framework (PyTorch or onnxruntime) computed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "recur/spec.hpp"
#include "recur/status.hpp"
#include "tests/reference/reference.hpp"

namespace recur::test {

struct GoldenCase {
  std::string name;
  std::string source;       // "pytorch" or "onnxruntime"
  std::string description;
  ModelSpec spec;
  reference::Input input;   // x, T, B, batch_first, h0/c0/lengths when the case uses them
  std::vector<float> y;     // expected, shaped like RunOutput::y
  std::vector<int64_t> y_shape;
  std::vector<float> h_n;   // (L*D, B, Hmax)
  std::vector<int64_t> h_shape;
  std::vector<float> c_n;   // (L*D, B, Cmax); empty when the model has no lstm layer
  std::vector<int64_t> c_shape;
};

// The case directories under RECUR_FIXTURES_DIR/golden, sorted by name.
std::vector<std::string> golden_case_dirs();

// Load one case; bad_metadata / io / the .npy reader's errors, naming the file.
Result<GoldenCase> load_golden_case(const std::string& dir);

}  // namespace recur::test
