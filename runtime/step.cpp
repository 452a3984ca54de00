// State and Model::step: streaming, one time step for every stream of a State. Uses the same
// kernel calls as run() (runtime/panel_layer.hpp, runtime/generic_layer.hpp), so T steps equal
// one run bit for bit.
// All buffers live in the State, sized once by new_state(); step() does not allocate.
#include <algorithm>
#include <cstring>
#include <new>
#include <string>

#include "runtime/check_input.hpp"
#include "runtime/generic_layer.hpp"
#include "runtime/model_impl.hpp"
#include "runtime/panel_layer.hpp"
#include "runtime/parallel.hpp"

namespace recur {

struct State::Impl {
  std::shared_ptr<const Model::Impl> model;  // keeps the owner alive and identifies it
  int64_t batch = 0;
  std::vector<float> h;          // (L*D, B, h_width)  state, shaped like run()'s h_n
  std::vector<float> c;          // (L*D, B, c_width)  lstm cell state, like c_n
  std::vector<float> gx;         // (B, G*H)           generic layers: W x + Wb
  std::vector<float> buf_a;      // (B, D*Hout)        layer outputs, ping-pong
  std::vector<float> buf_b;
  StepScratch scratch;           // generic layers
  PanelStepScratch panel;        // gate-panel layers
};

State::State() = default;
State::~State() = default;
State::State(State&&) noexcept = default;
State& State::operator=(State&&) noexcept = default;

int64_t State::batch() const noexcept { return impl_ ? impl_->batch : 0; }

void State::reset() noexcept {
  if (!impl_) return;
  std::fill(impl_->h.begin(), impl_->h.end(), 0.0f);
  std::fill(impl_->c.begin(), impl_->c.end(), 0.0f);
}

Status State::set(const float* h, const float* c) {
  if (!impl_) return {Errc::invalid_argument, "State::set on an empty State"};
  const Model::Impl& m = *impl_->model;
  if (c && m.c_width == 0) return {Errc::invalid_argument, "c given but the model has no lstm layer"};
  const int64_t B = impl_->batch;
  if (h) RECUR_TRY(check_finite(h, {m.state_rows, B, m.h_width}, "h"));
  if (c) RECUR_TRY(check_finite(c, {m.state_rows, B, m.c_width}, "c"));
  // Like run() with h0/c0: each layer reads the leading columns of its own rows; padding
  // columns and the c rows of non-lstm layers stay zero, as in run()'s h_n/c_n.
  std::fill(impl_->h.begin(), impl_->h.end(), 0.0f);
  std::fill(impl_->c.begin(), impl_->c.end(), 0.0f);
  for (const PackedLayer& layer : m.layers) {
    for (int d = 0; d < layer.dirs; ++d) {
      for (int64_t b = 0; b < B; ++b) {
        const int64_t row = (layer.state_row + d) * B + b;
        if (h) {
          std::copy(h + row * m.h_width, h + row * m.h_width + layer.Hout,
                    impl_->h.data() + row * m.h_width);
        }
        if (c && layer.cell == CellType::lstm) {
          std::copy(c + row * m.c_width, c + row * m.c_width + layer.H,
                    impl_->c.data() + row * m.c_width);
        }
      }
    }
  }
  return {};
}

Status State::get(float* h, float* c) const {
  if (!impl_) return {Errc::invalid_argument, "State::get on an empty State"};
  if (c && impl_->model->c_width == 0) {
    return {Errc::invalid_argument, "c requested but the model has no lstm layer"};
  }
  if (h) std::copy(impl_->h.begin(), impl_->h.end(), h);
  if (c) std::copy(impl_->c.begin(), impl_->c.end(), c);
  return {};
}

Result<State> Model::new_state(int64_t batch) const {
  if (!impl_) return Status(Errc::invalid_argument, "new_state on an empty (moved-from) Model");
  const Impl& m = *impl_;
  if (!m.streamable) {
    return Status(Errc::unsupported, "step needs forward-only layers; this model has a reverse "
                                     "or bidirectional layer (use run)");
  }
  if (batch <= 0) {
    return Status(Errc::invalid_argument, "batch is " + std::to_string(batch) + ", expected >= 1");
  }
  int64_t n = 0;
  RECUR_TRY(checked_elements({m.state_rows, batch, std::max(m.h_width, m.c_width)}, "the state", n));
  RECUR_TRY(checked_elements({batch, std::max({m.max_gate_width, m.max_width, m.output_size})},
                             "the step buffers", n));
  try {
    auto s = std::make_unique<State::Impl>();
    s->model = impl_;
    s->batch = batch;
    s->h.assign(static_cast<size_t>(m.state_rows * batch * m.h_width), 0.0f);
    s->c.assign(static_cast<size_t>(m.state_rows * batch * m.c_width), 0.0f);
    s->gx.assign(static_cast<size_t>(batch * m.max_gate_width), 0.0f);
    s->buf_a.assign(static_cast<size_t>(batch * m.max_width), 0.0f);
    s->buf_b.assign(static_cast<size_t>(batch * m.max_width), 0.0f);
    s->scratch.size_for(m, batch);
    s->panel.size_for(m, batch);
    State state;
    state.impl_ = std::move(s);
    return state;
  } catch (const std::bad_alloc&) {
    return Status(Errc::out_of_memory, "out of memory for a state of batch " + std::to_string(batch));
  }
}

Status Model::step(State& state, const float* x, float* y, const RunOptions& options) const {
  if (!impl_) return {Errc::invalid_argument, "step on an empty (moved-from) Model"};
  const Impl& m = *impl_;
  if (!m.streamable) {
    return {Errc::unsupported, "step needs forward-only layers; this model has a reverse or "
                               "bidirectional layer (use run)"};
  }
  if (!state.impl_) return {Errc::invalid_argument, "step with an empty (moved-from) State"};
  State::Impl& s = *state.impl_;
  if (s.model.get() != impl_.get()) {
    return {Errc::invalid_argument, "the State was made by another Model"};
  }
  if (!x) return {Errc::invalid_argument, "x is null"};
  if (!y) return {Errc::invalid_argument, "y is null"};
  if (options.threads < 0 || options.threads > kMaxThreads) {
    return {Errc::invalid_argument, "threads is " + std::to_string(options.threads) +
                                        ", expected 0.." + std::to_string(kMaxThreads)};
  }
  const int64_t B = s.batch;
  if (options.check_finite) RECUR_TRY(check_finite(x, {B, m.input_size}, "x"));
  const int threads = resolve_threads(options.threads);
  DenormalsFlushed ftz;

  StepScratch& scratch = s.scratch;
  std::fill(scratch.active.begin(), scratch.active.end(), uint8_t{1});
  const float* in = x;  // (B, width of the previous layer)
  int64_t in_width = m.input_size;
  float* out = s.buf_a.data();
  float* spare = s.buf_b.data();
  for (const PackedLayer& layer : m.layers) {
    const int64_t Hout = layer.Hout, gw = layer.gate_width();
    const int64_t row = layer.state_row;  // one direction
    float* h = s.h.data() + row * B * m.h_width;            // (B, Hout), ld h_width
    float* c = s.c.empty() ? nullptr : s.c.data() + row * B * m.c_width;  // (B, H), ld c_width
    const float* h_next = nullptr;  // (B, Hout)
    if (layer.gate_panels) {
      step_panel_layer(m, layer, B, in, in_width, h, m.h_width, c, m.c_width, s.panel, threads);
      h_next = s.panel.h_next.data();
    } else {
      input_projection(m, layer, 0, B, in, in_width, s.gx.data(), threads);
      for (int64_t b = 0; b < B; ++b) scratch.gx_rows[static_cast<size_t>(b)] = s.gx.data() + b * gw;
      advance(m, layer, 0, h, m.h_width, c, m.c_width, scratch, threads);
      h_next = scratch.h_next.data();
    }
    for (int64_t b = 0; b < B; ++b) {
      const float* hb = h_next + b * Hout;
      std::memcpy(h + b * m.h_width, hb, sizeof(float) * static_cast<size_t>(Hout));
      std::memcpy(out + b * Hout, hb, sizeof(float) * static_cast<size_t>(Hout));
    }
    in = out;
    in_width = Hout;
    std::swap(out, spare);
  }
  if (m.head) {
    apply_head(m, B, in, in_width, y, threads);
  } else {
    std::memcpy(y, in, sizeof(float) * static_cast<size_t>(B * in_width));
  }
  return {};
}

}  // namespace recur
