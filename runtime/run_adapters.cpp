// Embedding lookup, default initial states and final-state outputs around Model::run's core.
#include "runtime/run_adapters.hpp"

#include <cstring>
#include <string>
#include <vector>

#include "runtime/check_input.hpp"

namespace recur {
namespace {

size_t sz(int64_t n) { return static_cast<size_t>(n); }

// x (T*B, dim) from token ids laid out like x; an id outside the table names its position.
Status look_up(const Embedding& e, const RunInput& in, bool batch_first, std::vector<float>& x) {
  int64_t n = 0;
  RECUR_TRY(checked_elements({in.seq_len, in.batch, e.dim}, "x from the token ids (T, B, dim)", n));
  x.resize(sz(n));
  const int64_t rows = in.seq_len * in.batch;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t id = in.tokens[r];
    if (id < 0 || id >= e.vocab_size) {
      const int64_t outer = r / in.batch, inner = r % in.batch;
      const std::string at = batch_first ? "(b=" + std::to_string(r / in.seq_len) + ", t=" +
                                                  std::to_string(r % in.seq_len) + ")"
                                            : "(t=" + std::to_string(outer) + ", b=" + std::to_string(inner) + ")";
      return {Errc::invalid_argument, "token id " + std::to_string(id) + " at " + at +
                                          " is outside the vocabulary 0.." + std::to_string(e.vocab_size - 1)};
    }
    std::memcpy(x.data() + r * e.dim, e.table.data.data() + id * e.dim, sizeof(float) * sz(e.dim));
  }
  return {};
}

// out (S, B, width) = the (S, width) rows, repeated over the batch.
void repeat_rows(const Tensor& rows, int64_t batch, float* out) noexcept {
  const int64_t S = rows.shape[0], width = rows.shape[1];
  for (int64_t s = 0; s < S; ++s) {
    for (int64_t b = 0; b < batch; ++b) {
      std::memcpy(out + (s * batch + b) * width, rows.data.data() + s * width, sizeof(float) * sz(width));
    }
  }
}

}  // namespace

Result<RunOutput> run_with_adapters(const Model::Impl& m, const RunInput& in, const CoreRun& core) {
  const ModelExtras& spec = m.extras;
  RunInput adapted = in;
  std::vector<float> x, h0, c0;
  if (spec.embedding) {
    if (!in.tokens) return Status(Errc::invalid_argument, "this model takes token ids (tokens), not x");
    if (in.x) return Status(Errc::invalid_argument, "give tokens or x, not both; this model takes token ids");
    if (in.seq_len <= 0 || in.batch <= 0) {
      return Status(Errc::invalid_argument, "seq_len and batch must be >= 1 (T=" + std::to_string(in.seq_len) +
                                                ", B=" + std::to_string(in.batch) + ")");
    }
    const bool batch_first = in.layout == Layout::model ? m.config.batch_first : in.layout == Layout::batch_first;
    RECUR_TRY(look_up(*spec.embedding, in, batch_first, x));
    adapted.x = x.data();
    adapted.tokens = nullptr;
  } else if (in.tokens) {
    return Status(Errc::invalid_argument, "token ids given but the model has no embedding layer (give x)");
  }
  if (!in.h0 && !spec.initial_h.empty() && in.batch > 0) {
    h0.resize(sz(spec.initial_h.numel() * in.batch));
    repeat_rows(spec.initial_h, in.batch, h0.data());
    adapted.h0 = h0.data();
  }
  if (!in.c0 && !spec.initial_c.empty() && in.batch > 0) {
    c0.resize(sz(spec.initial_c.numel() * in.batch));
    repeat_rows(spec.initial_c, in.batch, c0.data());
    adapted.c0 = c0.data();
  }
  Result<RunOutput> out = core(adapted);
  if (!out || !spec.final_state) return out;

  const FinalStateOutput& f = *spec.final_state;
  const int64_t B = in.batch, W = m.output_size, Hs = m.h_width;
  std::vector<float> y(sz(f.rows * B * W));
  for (int64_t r = 0; r < f.rows * B; ++r) {
    std::memcpy(y.data() + r * W, out->h_n.data() + (f.first_row * B + r) * Hs, sizeof(float) * sz(W));
  }
  out->y = std::move(y);
  out->y_shape = f.squeeze ? std::vector<int64_t>{B, W} : std::vector<int64_t>{f.rows, B, W};
  return out;
}

const char* step_unsupported_reason(const Model::Impl& m) noexcept {
  if (m.extras.embedding) return "step takes float x; this model takes token ids (use run)";
  if (m.extras.final_state) return "step gives per-step outputs; this model's output is its final state (use run)";
  return "";
}

void apply_initial_state(const Model::Impl& m, int64_t batch, float* h, float* c) noexcept {
  if (h && !m.extras.initial_h.empty()) repeat_rows(m.extras.initial_h, batch, h);
  if (c && !m.extras.initial_c.empty()) repeat_rows(m.extras.initial_c, batch, c);
}

}  // namespace recur
