// Model::run: a whole batch of sequences through every layer and the head.
// Per layer and direction: one GEMM for the input projection of all T*B rows (hoisted out of
// the time loop), then the time loop calling advance() — the same step core as step().
#include <algorithm>
#include <cstring>
#include <new>
#include <string>

#include "runtime/check_input.hpp"
#include "runtime/fast_recurrence.hpp"
#include "runtime/model_impl.hpp"
#include "runtime/parallel.hpp"
#include "runtime/recurrence.hpp"

namespace recur {

namespace {

// Where time step t of batch element b lives among the T*B rows of x, y and every layer's
// output: (T, B, ·) time-major or (B, T, ·) batch-first.
struct RowMap {
  int64_t T, B;
  bool batch_first;
  int64_t row(int64_t t, int64_t b) const { return batch_first ? b * T + t : t * B + b; }
};

// Whether x and y are (B, T, ·) for this call: the input's layout, or the model's own.
Result<bool> resolve_batch_first(const Model::Impl& m, Layout layout) {
  switch (layout) {
    case Layout::model: return m.spec.batch_first;
    case Layout::time_major: return false;
    case Layout::batch_first: return true;
  }
  return Status(Errc::invalid_argument,
                "layout is " + std::to_string(static_cast<int>(layout)) +
                    ", expected model, time_major or batch_first");
}

Status check_run_input(const Model::Impl& m, const RunInput& in, bool batch_first,
                       const RunOptions& opt) {
  if (!in.x) return {Errc::invalid_argument, "x is null"};
  if (in.seq_len <= 0) {
    return {Errc::invalid_argument, "seq_len (T) is " + std::to_string(in.seq_len) + ", expected >= 1"};
  }
  if (in.batch <= 0) {
    return {Errc::invalid_argument, "batch (B) is " + std::to_string(in.batch) + ", expected >= 1"};
  }
  if (opt.threads < 0 || opt.threads > kMaxThreads) {
    return {Errc::invalid_argument, "threads is " + std::to_string(opt.threads) + ", expected 0.." +
                                        std::to_string(kMaxThreads)};
  }
  if (in.c0 && m.c_width == 0) {
    return {Errc::invalid_argument, "c0 given but the model has no lstm layer"};
  }
  const int64_t T = in.seq_len, B = in.batch;
  int64_t n = 0;
  RECUR_TRY(checked_elements({T, B, m.input_size}, "x (T, B, I)", n));
  RECUR_TRY(checked_elements({T, B, m.max_gate_width}, "the input projection (T, B, G*H)", n));
  RECUR_TRY(checked_elements({T, B, m.max_width}, "a layer output (T, B, D*Hout)", n));
  RECUR_TRY(checked_elements({T, B, m.output_size}, "y (T, B, out)", n));
  RECUR_TRY(checked_elements({m.state_rows, B, std::max(m.h_width, m.c_width)}, "h0/c0", n));
  if (in.lengths) {
    for (int64_t b = 0; b < B; ++b) {
      if (in.lengths[b] < 0 || in.lengths[b] > T) {
        return {Errc::invalid_argument, "lengths[" + std::to_string(b) + "] is " +
                                            std::to_string(in.lengths[b]) + ", expected 0.." +
                                            std::to_string(T)};
      }
    }
  }
  if (opt.check_finite) {
    if (batch_first) {
      RECUR_TRY(check_finite(in.x, {B, T, m.input_size}, "x"));
    } else {
      RECUR_TRY(check_finite(in.x, {T, B, m.input_size}, "x"));
    }
    if (in.h0) RECUR_TRY(check_finite(in.h0, {m.state_rows, B, m.h_width}, "h0"));
    if (in.c0) RECUR_TRY(check_finite(in.c0, {m.state_rows, B, m.c_width}, "c0"));
  }
  return {};
}

size_t sz(int64_t n) { return static_cast<size_t>(n); }

void copy_row(float* dst, const float* src, int64_t n) {
  std::memcpy(dst, src, sizeof(float) * sz(n));
}

Result<RunOutput> run_model(const Model::Impl& m, const RunInput& in, const RunOptions& opt) {
  Result<bool> layout = resolve_batch_first(m, in.layout);
  if (!layout) return layout.status();
  const bool batch_first = *layout;
  RECUR_TRY(check_run_input(m, in, batch_first, opt));
  const int threads = resolve_threads(opt.threads);
  DenormalsFlushed ftz;

  const int64_t T = in.seq_len, B = in.batch;
  const RowMap map{T, B, batch_first};
  std::vector<int64_t> len(sz(B), T);  // (B) steps each sequence takes
  if (in.lengths) {
    for (int64_t b = 0; b < B; ++b) len[sz(b)] = in.lengths[b];
  }
  const int64_t steps = *std::max_element(len.begin(), len.end());

  RunOutput out;
  out.h_shape = {m.state_rows, B, m.h_width};
  out.h_n.assign(sz(m.state_rows * B * m.h_width), 0.0f);
  if (m.c_width > 0) {
    out.c_shape = {m.state_rows, B, m.c_width};
    out.c_n.assign(sz(m.state_rows * B * m.c_width), 0.0f);
  }

  StepScratch scratch;
  scratch.size_for(m, B);
  // (T*B, G*H) one direction's W x + Wb, for the layers on the reference path only.
  const bool any_reference = std::any_of(m.layers.begin(), m.layers.end(),
                                         [](const PackedLayer& l) { return !l.fast; });
  std::vector<float> gx(any_reference ? sz(T * B * m.max_gate_width) : 0);
  std::vector<float> h(sz(B * m.max_hout));              // (B, Hout) state during the loop
  std::vector<float> c(sz(B * m.max_hidden));            // (B, H)    lstm cell state
  std::vector<float> layer_out;                          // (T*B, D*Hout)
  std::vector<float> layer_in;                           // the previous layer's output
  const float* x = in.x;                                 // (T*B, I) rows per `map`
  int64_t x_width = m.input_size;

  for (const PackedLayer& layer : m.layers) {
    const int64_t Hout = layer.Hout, H = layer.H, gw = layer.gate_width();
    const int64_t width = layer.width();
    layer_out.assign(sz(T * B * width), 0.0f);  // padded steps stay zero
    if (layer.fast) {
      // Fused kernels: every direction of the layer (runtime/fast_recurrence.hpp).
      FastLayerIO io;
      io.T = T;
      io.B = B;
      io.batch_first = batch_first;
      io.len = len.data();
      io.steps = steps;
      io.x = x;
      io.x_width = x_width;
      io.h0 = in.h0;
      io.h_width = m.h_width;
      io.c0 = in.c0;
      io.c_width = m.c_width;
      io.y = layer_out.data();
      io.h_n = out.h_n.data();
      io.c_n = out.c_n.empty() ? nullptr : out.c_n.data();
      run_fast_layer(m, layer, io, threads);
      layer_in.swap(layer_out);
      x = layer_in.data();
      x_width = width;
      continue;
    }
    for (int d = 0; d < layer.dirs; ++d) {
      input_projection(m, layer, d, T * B, x, x_width, gx.data(), threads);

      // Initial state of this (layer, direction) from h0/c0 rows, else zeros.
      const int64_t srow = layer.state_row + d;
      for (int64_t b = 0; b < B; ++b) {
        float* hb = h.data() + b * Hout;
        if (in.h0) {
          copy_row(hb, in.h0 + (srow * B + b) * m.h_width, Hout);
        } else {
          std::fill(hb, hb + Hout, 0.0f);
        }
        if (layer.cell == CellType::lstm) {
          float* cb = c.data() + b * H;
          if (in.c0) {
            copy_row(cb, in.c0 + (srow * B + b) * m.c_width, H);
          } else {
            std::fill(cb, cb + H, 0.0f);
          }
        }
      }

      // The time loop. Row b at loop step s is at time s (forward) or len-1-s (reverse:
      // each sequence is reversed within its own length) and takes the step if s < len.
      const bool reversed = layer.reversed(d);
      for (int64_t s = 0; s < steps; ++s) {
        for (int64_t b = 0; b < B; ++b) {
          const int64_t L = len[sz(b)];
          scratch.active[sz(b)] = s < L;
          const int64_t t = reversed ? L - 1 - s : s;
          scratch.gx_rows[sz(b)] = s < L ? gx.data() + map.row(t, b) * gw : nullptr;
        }
        advance(m, layer, d, h.data(), Hout, c.data(), H, scratch, threads);
        copy_row(h.data(), scratch.h_next.data(), B * Hout);
        for (int64_t b = 0; b < B; ++b) {
          const int64_t L = len[sz(b)];
          if (s >= L) continue;
          const int64_t t = reversed ? L - 1 - s : s;
          copy_row(layer_out.data() + map.row(t, b) * width + d * Hout, h.data() + b * Hout, Hout);
        }
      }

      // Final state: each row's state after its own last step (h0 when its length is 0).
      for (int64_t b = 0; b < B; ++b) {
        copy_row(out.h_n.data() + (srow * B + b) * m.h_width, h.data() + b * Hout, Hout);
        if (layer.cell == CellType::lstm) {
          copy_row(out.c_n.data() + (srow * B + b) * m.c_width, c.data() + b * H, H);
        }
      }
    }
    layer_in.swap(layer_out);
    x = layer_in.data();
    x_width = width;
  }

  // y: the last layer's output, or the head over it.
  if (!m.head) {
    out.y = std::move(layer_in);
    out.y_shape = batch_first ? std::vector<int64_t>{B, T, x_width}
                                 : std::vector<int64_t>{T, B, x_width};
  } else if (!m.head->last_step_only) {
    // Every step, padded ones included (their input is the zero output): rows keep `map`.
    out.y.assign(sz(T * B * m.head->out), 0.0f);
    apply_head(m, T * B, x, x_width, out.y.data(), threads);
    out.y_shape = batch_first ? std::vector<int64_t>{B, T, m.head->out}
                                 : std::vector<int64_t>{T, B, m.head->out};
  } else {
    // Each sequence's last step, len-1 (a zero input when len is 0).
    std::vector<float> last(sz(B * x_width), 0.0f);  // (B, width)
    for (int64_t b = 0; b < B; ++b) {
      const int64_t L = len[sz(b)];
      if (L > 0) copy_row(last.data() + b * x_width, x + map.row(L - 1, b) * x_width, x_width);
    }
    out.y.assign(sz(B * m.head->out), 0.0f);
    apply_head(m, B, last.data(), x_width, out.y.data(), threads);
    out.y_shape = {B, m.head->out};
  }
  return out;
}

}  // namespace

const char* layout_name(Layout layout) noexcept {
  switch (layout) {
    case Layout::model: return "model";
    case Layout::time_major: return "time_major";
    case Layout::batch_first: return "batch_first";
  }
  return "unknown";
}

Result<RunOutput> Model::run(const RunInput& input, const RunOptions& options) const {
  if (!impl_) return Status(Errc::invalid_argument, "run on an empty (moved-from) Model");
  try {
    return run_model(*impl_, input, options);
  } catch (const std::bad_alloc&) {
    return Status(Errc::out_of_memory, "out of memory for the buffers of run (T=" +
                                           std::to_string(input.seq_len) + ", B=" +
                                           std::to_string(input.batch) + ")");
  } catch (const std::exception& e) {
    return Status(Errc::internal, std::string("unexpected error in run: ") + e.what());
  }
}

}  // namespace recur
