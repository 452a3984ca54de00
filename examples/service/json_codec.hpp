// The service's JSON wire format: request bodies parsed and validated into dense fp32 arrays
// (every shape, type and value checked, messages naming the offending element), and float
// arrays written back as nested JSON arrays in the shortest text that reads back exactly.
// Bodies are read event by event, never as a JSON tree: numbers go straight into floats, and
// the first element that does not fit the schema (which nests at most 4 deep) stops the read,
// so parsing takes at most a few times the body's size in memory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "recur/status.hpp"

namespace recur::service {

// POST /v1/predict: {"inputs": [[[I numbers] x T] x B], "lengths": [B ints] (optional),
// "return_state": bool (optional)}.
struct PredictRequest {
  int64_t batch = 0;              // B
  int64_t seq_len = 0;            // T
  std::vector<float> x;           // (B, T, I)
  std::vector<int32_t> lengths;   // (B) each in [0, T]; empty = every sequence has T steps
  bool return_state = false;      // also return h_n (and c_n)
};

// invalid_argument (shape, type, unknown or repeated key, malformed JSON) or non_finite (a
// value that is not a finite fp32: 1e39), with a message naming the element, e.g.
// "inputs[0][3][2]".
Status parse_predict(const std::string& body, int64_t input_size, PredictRequest& out);

// POST /v1/streams/{id}/step: {"x": [I numbers]} -> x (I).
Status parse_step(const std::string& body, int64_t input_size, std::vector<float>& x);

// The most bytes append_json_array writes per value: 15 characters of the longest shortest
// fp32 form ("-1.17549435e-38"), its comma, and two brackets when the innermost dimension is 1.
inline constexpr int64_t kMaxJsonBytesPerValue = 18;

// Appends `data` (dense, row-major, of `shape`) to `out` as nested JSON arrays, each value in
// the shortest decimal form that parses back to the same float (null for NaN/Inf).
void append_json_array(std::string& out, const float* data, const std::vector<int64_t>& shape);

// {"error": message} (invalid UTF-8 in the message replaced, never thrown on).
std::string error_json(const std::string& message);

}  // namespace recur::service
