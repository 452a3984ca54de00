// The C API (include/recur/recur.h) over the C++ API. Every entry point catches everything:
// no exception crosses into C. Errors are kept per thread for recur_last_error().
#include "recur/recur.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <string>

#include "recur/model.hpp"

struct recur_model {
  recur::Model model;
};
struct recur_state {
  recur::State state;
  const recur_model* owner;  // the model that made it
};

// recur_status mirrors recur::Errc value for value.
static_assert(static_cast<int>(recur::Errc::io) == RECUR_ERR_IO, "Errc/recur_status mismatch");
static_assert(static_cast<int>(recur::Errc::non_finite) == RECUR_ERR_NON_FINITE,
              "Errc/recur_status mismatch");
static_assert(static_cast<int>(recur::Errc::invalid_argument) == RECUR_ERR_INVALID_ARGUMENT,
              "Errc/recur_status mismatch");
static_assert(static_cast<int>(recur::Errc::internal) == RECUR_ERR_INTERNAL,
              "Errc/recur_status mismatch");

namespace {

thread_local std::string g_last_error;

recur_status to_c(recur::Errc code) { return static_cast<recur_status>(static_cast<int>(code)); }

recur_status fail(recur_status code, std::string message) {
  try {
    g_last_error = std::move(message);
  } catch (...) {
    g_last_error.clear();
  }
  return code;
}
recur_status fail(const recur::Status& s) { return fail(to_c(s.code()), s.message()); }

// Runs `body` (returning recur_status) and turns any escaping exception into a status.
template <class F>
recur_status guarded(const char* where, F&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return fail(RECUR_ERR_OUT_OF_MEMORY, std::string(where) + ": out of memory");
  } catch (const std::exception& e) {
    return fail(RECUR_ERR_INTERNAL, std::string(where) + ": " + e.what());
  } catch (...) {
    return fail(RECUR_ERR_INTERNAL, std::string(where) + ": unknown error");
  }
}

recur::RunOptions to_options(const recur_options* o) {
  recur::RunOptions opt;
  if (o) {
    opt.threads = o->threads;
    opt.check_finite = o->check_finite != 0;
  }
  return opt;
}

int64_t state_width(const recur::ModelConfig& spec) {
  int64_t w = 0;
  for (const recur::LayerConfig& l : spec.layers) w = std::max(w, l.output_size());
  return w;
}
int64_t cell_width(const recur::ModelConfig& spec) {
  int64_t w = 0;
  for (const recur::LayerConfig& l : spec.layers) {
    if (l.cell == recur::CellType::lstm) w = std::max(w, l.hidden_size);
  }
  return w;
}

struct OutputSizes {
  int64_t y = 0, h = 0, c = 0;
};
recur_status output_sizes(const recur_model* model, int64_t T, int64_t B, OutputSizes& out) {
  if (!model) return fail(RECUR_ERR_INVALID_ARGUMENT, "model is NULL");
  if (T <= 0 || B <= 0) {
    return fail(RECUR_ERR_INVALID_ARGUMENT, "seq_len and batch must be >= 1 (got " +
                                                std::to_string(T) + ", " + std::to_string(B) + ")");
  }
  const recur::ModelConfig& spec = model->model.config();
  const bool last_only = spec.head && spec.head->last_step_only;
  const int64_t steps = last_only ? 1 : T;
  bool overflow = __builtin_mul_overflow(steps, B, &out.y) ||
                  __builtin_mul_overflow(out.y, model->model.output_size(), &out.y);
  int64_t rows_b = 0;
  overflow = overflow || __builtin_mul_overflow(model->model.num_state_rows(), B, &rows_b) ||
             __builtin_mul_overflow(rows_b, state_width(spec), &out.h) ||
             __builtin_mul_overflow(rows_b, cell_width(spec), &out.c);
  if (overflow) return fail(RECUR_ERR_INVALID_ARGUMENT, "output sizes overflow int64");
  return RECUR_OK;
}

recur_status copy_out(const std::vector<float>& src, float* dst, int64_t count, const char* name) {
  if (!dst) return RECUR_OK;
  if (count != static_cast<int64_t>(src.size())) {
    return fail(RECUR_ERR_INVALID_ARGUMENT, std::string(name) + "_count is " + std::to_string(count) +
                                                ", expected " + std::to_string(src.size()));
  }
  std::copy(src.begin(), src.end(), dst);
  return RECUR_OK;
}

}  // namespace

extern "C" {

const char* recur_status_name(recur_status status) {
  if (status < RECUR_OK || status > RECUR_ERR_INTERNAL) return "unknown";
  return recur::errc_name(static_cast<recur::Errc>(static_cast<int>(status)));
}

const char* recur_last_error(void) { return g_last_error.c_str(); }

recur_options recur_default_options(void) { return recur_options{0, 1}; }

recur_load_options recur_default_load_options(void) { return recur_load_options{nullptr, 1, 1, nullptr, 0}; }

recur_status recur_model_load(const char* path, recur_model** out_model) {
  return recur_model_load_ex(path, nullptr, out_model);
}

recur_status recur_model_load_ex(const char* path, const recur_load_options* options,
                                 recur_model** out_model) {
  return guarded("recur_model_load", [&]() -> recur_status {
    if (!out_model) return fail(RECUR_ERR_INVALID_ARGUMENT, "out_model is NULL");
    *out_model = nullptr;
    if (!path) return fail(RECUR_ERR_INVALID_ARGUMENT, "path is NULL");
    recur::LoadOptions lo;
    if (options) {
      lo.check_finite = options->check_finite != 0;
      lo.verify_checksum = options->verify_checksum != 0;
      const char* isa = options->isa;
      if (!isa || std::strcmp(isa, "best") == 0) {
        lo.isa = recur::Isa::best;
      } else if (std::strcmp(isa, "avx512") == 0) {
        lo.isa = recur::Isa::avx512;
      } else if (std::strcmp(isa, "avx2") == 0) {
        lo.isa = recur::Isa::avx2;
      } else if (std::strcmp(isa, "scalar") == 0) {
        lo.isa = recur::Isa::scalar;
      } else {
        return fail(RECUR_ERR_INVALID_ARGUMENT, std::string("isa '") + isa +
                                                    "' is not one of best, avx512, avx2, scalar");
      }
      const char* weights = options->recurrent_weights;
      if (!weights || std::strcmp(weights, "f32") == 0) {
        lo.recurrent_weights = recur::WeightFormat::f32;
      } else if (std::strcmp(weights, "bf16") == 0) {
        lo.recurrent_weights = recur::WeightFormat::bf16;
      } else {
        return fail(RECUR_ERR_INVALID_ARGUMENT,
                    std::string("recurrent_weights '") + weights + "' is not one of f32, bf16");
      }
      lo.threads = options->threads;  // Model::load checks the range
    }
    recur::Result<recur::Model> m = recur::Model::load(path, lo);
    if (!m) return fail(m.status());
    *out_model = new recur_model{std::move(m).value()};
    return RECUR_OK;
  });
}

void recur_model_free(recur_model* model) { delete model; }

int64_t recur_model_input_size(const recur_model* model) {
  return model ? model->model.input_size() : 0;
}
int64_t recur_model_output_size(const recur_model* model) {
  return model ? model->model.output_size() : 0;
}
int64_t recur_model_state_rows(const recur_model* model) {
  return model ? model->model.num_state_rows() : 0;
}
int64_t recur_model_state_width(const recur_model* model) {
  return model ? state_width(model->model.config()) : 0;
}
int64_t recur_model_cell_width(const recur_model* model) {
  return model ? cell_width(model->model.config()) : 0;
}
const char* recur_model_isa(const recur_model* model) {
  return model ? recur::isa_name(model->model.isa()) : "";
}
int32_t recur_model_batch_first(const recur_model* model) {
  return model && model->model.batch_first() ? 1 : 0;
}

recur_status recur_run_output_sizes(const recur_model* model, int64_t seq_len, int64_t batch,
                                    int64_t* y_count, int64_t* h_count, int64_t* c_count) {
  return guarded("recur_run_output_sizes", [&]() -> recur_status {
    OutputSizes s;
    const recur_status st = output_sizes(model, seq_len, batch, s);
    if (st != RECUR_OK) return st;
    if (y_count) *y_count = s.y;
    if (h_count) *h_count = s.h;
    if (c_count) *c_count = s.c;
    return RECUR_OK;
  });
}

recur_status recur_run(const recur_model* model, const recur_run_input* input,
                       const recur_options* options, float* y, int64_t y_count, float* h_n,
                       int64_t h_count, float* c_n, int64_t c_count) {
  return guarded("recur_run", [&]() -> recur_status {
    if (!model) return fail(RECUR_ERR_INVALID_ARGUMENT, "model is NULL");
    if (!input) return fail(RECUR_ERR_INVALID_ARGUMENT, "input is NULL");
    if (!y) return fail(RECUR_ERR_INVALID_ARGUMENT, "y is NULL");
    recur::RunInput in;
    in.x = input->x;
    in.seq_len = input->seq_len;
    in.batch = input->batch;
    switch (input->layout) {
      case RECUR_LAYOUT_MODEL: in.layout = recur::Layout::model; break;
      case RECUR_LAYOUT_TIME_MAJOR: in.layout = recur::Layout::time_major; break;
      case RECUR_LAYOUT_BATCH_FIRST: in.layout = recur::Layout::batch_first; break;
      default:
        return fail(RECUR_ERR_INVALID_ARGUMENT,
                    "layout is " + std::to_string(input->layout) +
                        ", expected RECUR_LAYOUT_MODEL (0), _TIME_MAJOR (1) or _BATCH_FIRST (2)");
    }
    in.h0 = input->h0;
    in.c0 = input->c0;
    in.lengths = input->lengths;
    // Check the caller's buffer sizes before running.
    if (in.seq_len > 0 && in.batch > 0) {
      OutputSizes s;
      const recur_status st = output_sizes(model, in.seq_len, in.batch, s);
      if (st != RECUR_OK) return st;
      if (y_count != s.y) {
        return fail(RECUR_ERR_INVALID_ARGUMENT, "y_count is " + std::to_string(y_count) +
                                                    ", expected " + std::to_string(s.y));
      }
      if (h_n && h_count != s.h) {
        return fail(RECUR_ERR_INVALID_ARGUMENT, "h_count is " + std::to_string(h_count) +
                                                    ", expected " + std::to_string(s.h));
      }
      if (c_n && c_count != s.c) {
        return fail(RECUR_ERR_INVALID_ARGUMENT, "c_count is " + std::to_string(c_count) +
                                                    ", expected " + std::to_string(s.c));
      }
    }
    recur::Result<recur::RunOutput> r = model->model.run(in, to_options(options));
    if (!r) return fail(r.status());
    recur_status st = copy_out(r->y, y, y_count, "y");
    if (st == RECUR_OK) st = copy_out(r->h_n, h_n, h_count, "h");
    if (st == RECUR_OK) st = copy_out(r->c_n, c_n, c_count, "c");
    return st;
  });
}

recur_status recur_state_new(const recur_model* model, int64_t batch, recur_state** out_state) {
  return guarded("recur_state_new", [&]() -> recur_status {
    if (!out_state) return fail(RECUR_ERR_INVALID_ARGUMENT, "out_state is NULL");
    *out_state = nullptr;
    if (!model) return fail(RECUR_ERR_INVALID_ARGUMENT, "model is NULL");
    recur::Result<recur::State> s = model->model.new_state(batch);
    if (!s) return fail(s.status());
    *out_state = new recur_state{std::move(s).value(), model};
    return RECUR_OK;
  });
}

void recur_state_free(recur_state* state) { delete state; }

recur_status recur_state_reset(recur_state* state) {
  if (!state) return fail(RECUR_ERR_INVALID_ARGUMENT, "state is NULL");
  state->state.reset();
  return RECUR_OK;
}

int64_t recur_state_batch(const recur_state* state) { return state ? state->state.batch() : 0; }

recur_status recur_state_set(recur_state* state, const float* h, const float* c) {
  return guarded("recur_state_set", [&]() -> recur_status {
    if (!state) return fail(RECUR_ERR_INVALID_ARGUMENT, "state is NULL");
    const recur::Status s = state->state.set(h, c);
    return s.ok() ? RECUR_OK : fail(s);
  });
}

recur_status recur_state_get(const recur_state* state, float* h, float* c) {
  return guarded("recur_state_get", [&]() -> recur_status {
    if (!state) return fail(RECUR_ERR_INVALID_ARGUMENT, "state is NULL");
    const recur::Status s = state->state.get(h, c);
    return s.ok() ? RECUR_OK : fail(s);
  });
}

recur_status recur_step(const recur_model* model, recur_state* state, const float* x,
                        int64_t x_count, float* y, int64_t y_count, const recur_options* options) {
  return guarded("recur_step", [&]() -> recur_status {
    if (!model) return fail(RECUR_ERR_INVALID_ARGUMENT, "model is NULL");
    if (!state) return fail(RECUR_ERR_INVALID_ARGUMENT, "state is NULL");
    if (state->owner != model) {
      return fail(RECUR_ERR_INVALID_ARGUMENT, "the state was made by another model");
    }
    const int64_t B = state->state.batch();
    const int64_t want_x = B * model->model.input_size();
    const int64_t want_y = B * model->model.output_size();
    if (x_count != want_x) {
      return fail(RECUR_ERR_INVALID_ARGUMENT, "x_count is " + std::to_string(x_count) +
                                                  ", expected batch " + std::to_string(B) +
                                                  " * input size = " + std::to_string(want_x));
    }
    if (y_count != want_y) {
      return fail(RECUR_ERR_INVALID_ARGUMENT, "y_count is " + std::to_string(y_count) +
                                                  ", expected batch " + std::to_string(B) +
                                                  " * output size = " + std::to_string(want_y));
    }
    const recur::Status s = model->model.step(state->state, x, y, to_options(options));
    return s.ok() ? RECUR_OK : fail(s);
  });
}

}  // extern "C"
