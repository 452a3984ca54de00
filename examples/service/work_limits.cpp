// The per-request bounds on work and answer size.
#include "work_limits.hpp"

#include <algorithm>
#include <string>

#include "formats/checked.hpp"

namespace recur::service {

WorkLimits::WorkLimits(const Model& model, int64_t max_work, int64_t max_response_bytes)
    : max_work_(max_work), max_response_bytes_(max_response_bytes) {
  const ModelConfig& spec = model.config();
  width_ = std::max(model.input_size(), model.output_size());
  int64_t hout = 0, h = 0;
  bool lstm = false;
  for (const LayerConfig& layer : spec.layers) {
    width_ = std::max(width_, gate_count(layer.cell) * layer.hidden_size * direction_count(layer.direction));
    hout = std::max(hout, layer.output_size());
    h = std::max(h, layer.hidden_size);
    lstm = lstm || layer.cell == CellType::lstm;
  }
  output_size_ = model.output_size();
  last_step_only_ = spec.head && spec.head->last_step_only;
  state_values_ = model.num_state_rows() * (hout + (lstm ? h : 0));
}

Status WorkLimits::check(const PredictRequest& r) const {
  const std::string shape = "B=" + std::to_string(r.batch) + ", T=" + std::to_string(r.seq_len);
  int64_t steps = 0, work = 0;
  const bool work_fits = checked::mul(r.batch, r.seq_len, steps) && checked::mul(steps, width_, work);
  if (!work_fits || work > max_work_) {
    return {Errc::invalid_argument,
            "the request asks for B*T*width = " + (work_fits ? std::to_string(work) : std::string("> 2^63")) +
                " elements of work (" + shape + ", width " + std::to_string(width_) + "), above the limit of " +
                std::to_string(max_work_) + " (--max-work); send fewer or shorter sequences per request"};
  }
  // Values in the answer: y (B, T, O) or (B, O), and h_n/c_n with return_state.
  int64_t values = 0, state = 0, bytes = 0;
  bool fits = checked::mul(last_step_only_ ? r.batch : steps, output_size_, values);
  if (r.return_state) fits = fits && checked::mul(r.batch, state_values_, state);
  fits = fits && !__builtin_add_overflow(values, state, &values) && checked::mul(values, kMaxJsonBytesPerValue, bytes);
  if (!fits || bytes > max_response_bytes_) {
    return {Errc::invalid_argument,
            "the answer would take up to " + (fits ? std::to_string(bytes) : std::string("> 2^63")) + " bytes (" +
                shape + (r.return_state ? ", with the state" : "") + "), above the limit of " +
                std::to_string(max_response_bytes_) + " bytes (--max-response-mib)"};
  }
  return {};
}

}  // namespace recur::service
