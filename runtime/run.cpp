// Model::run: a whole batch of sequences through every layer and the head: the input checks,
// the sequence (runtime/sequence.hpp) and each panel layer's plan (runtime/plan.hpp), then each
// layer on its kernels (runtime/panel_layer.hpp, runtime/generic_layer.hpp) with buffers of
// this call.
#include <algorithm>
#include <cstring>
#include <new>
#include <string>

#include "runtime/check_input.hpp"
#include "runtime/generic_layer.hpp"
#include "runtime/model_impl.hpp"
#include "runtime/panel_layer.hpp"
#include "runtime/parallel.hpp"
#include "runtime/plan.hpp"
#include "runtime/sequence.hpp"

namespace recur {

namespace {

// Whether x and y are (B, T, ·) for this call: the input's layout, or the model's own.
Result<bool> resolve_batch_first(const Model::Impl& m, Layout layout) {
  switch (layout) {
    case Layout::model: return m.config.batch_first;
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

// The buffers of one run() call, sized for the widest layer of each kind.
struct RunWorkspace {
  GenericWorkspace generic;
  PanelWorkspace panels;
  std::vector<float> layer_out;  // (T*B, D*Hout)
  std::vector<float> layer_in;   // the previous layer's output
};

void size_generic(const Model::Impl& m, int64_t T, int64_t B, GenericWorkspace& ws) {
  const bool any = std::any_of(m.layers.begin(), m.layers.end(), [](const PackedLayer& l) { return !l.gate_panels; });
  if (!any) return;
  ws.gx.resize(sz(T * B * m.max_gate_width));
  ws.h.resize(sz(B * m.max_hout));
  ws.c.resize(sz(B * m.max_hidden));
  ws.scratch.size_for(m, B);
}

// y: the last layer's output x (rows per seq), or the head over it.
void apply_output(const Model::Impl& m, const Sequence& seq, const float* x, int64_t x_width,
                  std::vector<float>&& last_layer, RunOutput& out, int threads) {
  const int64_t T = seq.T, B = seq.B;
  const auto per_step = [&](int64_t w) {
    return seq.batch_first ? std::vector<int64_t>{B, T, w} : std::vector<int64_t>{T, B, w};
  };
  if (!m.head) {
    out.y = std::move(last_layer);
    out.y_shape = per_step(x_width);
  } else if (!m.head->last_step_only) {
    // Every step, padded ones included (their input is the zero output): rows keep seq's order.
    out.y.assign(sz(T * B * m.head->out), 0.0f);
    apply_head(m, T * B, x, x_width, out.y.data(), threads);
    out.y_shape = per_step(m.head->out);
  } else {
    // Each sequence's last step, len-1 (a zero input when len is 0).
    std::vector<float> last(sz(B * x_width), 0.0f);  // (B, width)
    for (int64_t b = 0; b < B; ++b) {
      const int64_t L = seq.len[b];
      if (L > 0) std::memcpy(last.data() + b * x_width, x + seq.row(L - 1, b) * x_width, sizeof(float) * sz(x_width));
    }
    out.y.assign(sz(B * m.head->out), 0.0f);
    apply_head(m, B, last.data(), x_width, out.y.data(), threads);
    out.y_shape = {B, m.head->out};
  }
}

Result<RunOutput> run_model(const Model::Impl& m, const RunInput& in, const RunOptions& opt) {
  Result<bool> layout = resolve_batch_first(m, in.layout);
  if (!layout) return layout.status();
  const bool batch_first = *layout;
  RECUR_TRY(check_run_input(m, in, batch_first, opt));
  const int threads = resolve_threads(opt.threads);
  DenormalsFlushed ftz;

  const int64_t T = in.seq_len, B = in.batch;
  std::vector<int64_t> len(sz(B), T);  // (B) steps each sequence takes
  if (in.lengths) {
    for (int64_t b = 0; b < B; ++b) len[sz(b)] = in.lengths[b];
  }
  Sequence seq;
  seq.T = T;
  seq.B = B;
  seq.batch_first = batch_first;
  seq.len = len.data();
  seq.steps = *std::max_element(len.begin(), len.end());
  std::vector<PanelLayerPlan> plans(m.layers.size());
  for (size_t i = 0; i < m.layers.size(); ++i) {
    if (m.layers[i].gate_panels) plans[i] = plan_panel_layer(m.layers[i], B, seq.steps, threads, cache_sizes());
  }

  RunOutput out;
  out.h_shape = {m.state_rows, B, m.h_width};
  out.h_n.assign(sz(m.state_rows * B * m.h_width), 0.0f);
  if (m.c_width > 0) {
    out.c_shape = {m.state_rows, B, m.c_width};
    out.c_n.assign(sz(m.state_rows * B * m.c_width), 0.0f);
  }
  RunWorkspace ws;
  size_generic(m, T, B, ws.generic);
  LayerIO io;
  io.x = in.x;  // (T*B, I) rows per seq
  io.x_width = m.input_size;
  io.h0 = in.h0;
  io.c0 = in.c0;
  io.h_n = out.h_n.data();
  io.c_n = out.c_n.empty() ? nullptr : out.c_n.data();
  io.h_width = m.h_width;
  io.c_width = m.c_width;
  for (size_t i = 0; i < m.layers.size(); ++i) {
    const PackedLayer& layer = m.layers[i];
    ws.layer_out.assign(sz(T * B * layer.width()), 0.0f);  // padded steps stay zero
    io.y = ws.layer_out.data();
    if (layer.gate_panels) {
      run_panel_layer(m, layer, plans[i], seq, io, ws.panels);
    } else {
      run_generic_layer(m, layer, seq, io, ws.generic, threads);
    }
    ws.layer_in.swap(ws.layer_out);
    io.x = ws.layer_in.data();
    io.x_width = layer.width();
  }
  apply_output(m, seq, io.x, io.x_width, std::move(ws.layer_in), out, threads);
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
