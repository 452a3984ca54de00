// How much one predict may ask for, checked after its body is parsed and before it is queued:
// the work B·T·width (width = the model's widest per-step array: the input, the output, or a
// layer's gate pre-activations G·H over its directions) and a bound on its answer's bytes
// (every value it returns at kMaxJsonBytesPerValue). Requests beyond either get 422.
#pragma once

#include <cstdint>

#include "json_codec.hpp"
#include "recur/model.hpp"

namespace recur::service {

class WorkLimits {
 public:
  WorkLimits(const Model& model, int64_t max_work, int64_t max_response_bytes);

  // ok, or invalid_argument naming the limit exceeded and by how much.
  Status check(const PredictRequest& request) const;

  int64_t width() const noexcept { return width_; }

 private:
  int64_t max_work_, max_response_bytes_;
  int64_t width_ = 0;        // widest per-step array of one sequence
  int64_t output_size_ = 0;  // O
  bool last_step_only_ = false;
  int64_t state_values_ = 0;  // per sequence in h_n and c_n: L·D·(Hout + H if the model has lstm)
};

}  // namespace recur::service
