/* recur C API: load a model, run whole batches, stream step by step.
 *
 * Opaque handles; every function returns a recur_status (RECUR_OK = 0) and never lets an
 * exception or abort escape. On failure, recur_last_error() gives the message of the last
 * failed call on the calling thread. A recur_model is immutable: any number of threads may
 * call recur_run / recur_step on one model at once. A recur_state belongs to the model that
 * made it and to one thread at a time.
 *
 * Layouts are those of the C++ API (include/recur/model.hpp), fp32 row-major:
 *   x   (T, B, I) time-major, or (B, T, I) batch-first (recur_run_input.layout)
 *   y   the same layout as x, (T, B, O) or (B, T, O); (B, O) when the model's head is
 *       last-step-only; (rows, B, O) or (B, O) when the model's output is its final state
 *       (ONNX Y_h)
 *   h0, h_n (S, B, Hs)     S = recur_model_state_rows, Hs = recur_model_state_width
 *   c0, c_n (S, B, Cs)     Cs = recur_model_cell_width (0 when the model has no LSTM layer)
 */
#ifndef RECUR_RECUR_H_
#define RECUR_RECUR_H_

#include <stddef.h>
#include <stdint.h>

#include "recur/export.h"
#include "recur/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version, "MAJOR.MINOR.PATCH" (the CMake project version): that of the library
 * loaded at run time, which RECUR_VERSION_STRING (recur/version.h) gives at compile time. */
RECUR_API const char* recur_version(void);

/* Mirrors recur::Errc, same values. */
typedef enum recur_status {
  RECUR_OK = 0,
  RECUR_ERR_IO = 1,
  RECUR_ERR_BAD_MAGIC = 2,
  RECUR_ERR_UNSUPPORTED_VERSION = 3,
  RECUR_ERR_TRUNCATED = 4,
  RECUR_ERR_BAD_HEADER = 5,
  RECUR_ERR_BAD_METADATA = 6,
  RECUR_ERR_BAD_TENSOR = 7,
  RECUR_ERR_CHECKSUM_MISMATCH = 8,
  RECUR_ERR_INVALID_MODEL = 9,
  RECUR_ERR_NON_FINITE = 10,
  RECUR_ERR_INVALID_ARGUMENT = 11,
  RECUR_ERR_UNSUPPORTED = 12,
  RECUR_ERR_OUT_OF_MEMORY = 13,
  RECUR_ERR_INTERNAL = 14
} recur_status;

typedef struct recur_model recur_model;
typedef struct recur_state recur_state;

/* "ok", "io", "invalid_argument", ... */
RECUR_API const char* recur_status_name(recur_status status);
/* Message of the last failed call on this thread ("" if none); valid until the next failing
 * call on this thread. */
RECUR_API const char* recur_last_error(void);

/* Option structs can grow: each starts with `size`, the sizeof the struct the caller was
 * compiled with, which recur_*_options_init (or recur_default_*options) sets with every other
 * field's default. Fields past a caller's size keep their defaults; bytes past this library's
 * struct must be zero (else RECUR_ERR_UNSUPPORTED: an option this library does not know). A
 * size below 4 or above 4096 is RECUR_ERR_INVALID_ARGUMENT. */

/* Options of a call; NULL means the defaults: threads 0, check_finite 1.
 * threads 0 = automatic: RECUR_NUM_THREADS, else OMP_NUM_THREADS (its first value), else 1 --
 * one thread per call unless asked, the safe choice for a service running many calls at once;
 * an environment value is capped by the CPUs available to the process (its affinity mask and
 * cgroup CPU quota); a value that is not an integer in 1..1024 is ignored. threads = N > 0
 * uses up to N threads (fewer when the work is too small to split); 1 runs on the calling
 * thread only. */
typedef struct recur_options {
  uint32_t size; /* sizeof(recur_options) */
  int32_t threads;
  int32_t check_finite;
} recur_options;
RECUR_API void recur_options_init(recur_options* options);
RECUR_API recur_options recur_default_options(void);

/* ---- Model ---------------------------------------------------------------------------- */
/* Load options; NULL means the defaults: isa NULL or "best" (the widest the CPU supports,
 * RECUR_ISA overrides), check_finite 1, verify_checksum 1, recurrent_weights NULL or "f32",
 * threads 0 (outside 0..1024: invalid argument).
 * isa "avx512" | "avx2" | "scalar" forces one (RECUR_ERR_UNSUPPORTED if the CPU lacks it).
 * recurrent_weights "bf16" keeps the recurrent matrices as bfloat16: half the bytes per step,
 * results those of the model with R rounded to bf16 (recur::WeightFormat in model.hpp).
 * precision NULL or "file" (the file's own), "f32", "int8" (dynamic quantization) or "bf16"
 * (RECUR_ERR_UNSUPPORTED: not implemented yet): recur::Precision in model.hpp.
 * Another string in any of them: invalid argument. */
typedef struct recur_load_options {
  uint32_t size; /* sizeof(recur_load_options) */
  const char* isa;
  int32_t check_finite;
  int32_t verify_checksum;
  const char* recurrent_weights;
  int32_t threads; /* 0: helper threads for a large file's checks if 2+ CPUs; 1: caller only */
  const char* precision;
} recur_load_options;
RECUR_API void recur_load_options_init(recur_load_options* options);
RECUR_API recur_load_options recur_default_load_options(void);

RECUR_API recur_status recur_model_load(const char* path, recur_model** out_model);
RECUR_API recur_status recur_model_load_ex(const char* path, const recur_load_options* options,
                                 recur_model** out_model);
RECUR_API void recur_model_free(recur_model* model); /* NULL is fine */

RECUR_API int64_t recur_model_input_size(const recur_model* model);   /* I */
RECUR_API int64_t recur_model_output_size(const recur_model* model);  /* O: per-step width of y */
RECUR_API int64_t recur_model_state_rows(const recur_model* model);   /* S = layers * directions */
RECUR_API int64_t recur_model_state_width(const recur_model* model);  /* Hs */
RECUR_API int64_t recur_model_cell_width(const recur_model* model);   /* Cs, 0 without LSTM layers */
RECUR_API const char* recur_model_isa(const recur_model* model);      /* "avx512", "avx2", "scalar" */
/* 1 when the model's own layout (RECUR_LAYOUT_MODEL) is batch-first (B, T, .), else 0. */
RECUR_API int32_t recur_model_batch_first(const recur_model* model);
/* Rows of the model's embedding table; 0 when the model takes float x (no embedding layer). */
RECUR_API int64_t recur_model_vocab_size(const recur_model* model);

/* Free-form user metadata (string key/values the converter stored, e.g. input normalization),
 * in key order. Strings stay valid while the model lives. Key: NULL when index is outside
 * 0..count-1. Value: NULL when the model has no such key. */
RECUR_API int64_t recur_model_metadata_count(const recur_model* model);
RECUR_API const char* recur_model_metadata_key(const recur_model* model, int64_t index);
RECUR_API const char* recur_model_metadata_value(const recur_model* model, const char* key);

/* ---- Batch run -------------------------------------------------------------------------- */
/* The layout of x and y. A zero-initialised recur_run_input takes the model's own. */
enum {
  RECUR_LAYOUT_MODEL = 0,        /* as the model was converted (recur_model_batch_first) */
  RECUR_LAYOUT_TIME_MAJOR = 1,   /* (T, B, .) */
  RECUR_LAYOUT_BATCH_FIRST = 2   /* (B, T, .) */
};

typedef struct recur_run_input {
  const float* x;
  int64_t seq_len;        /* T */
  int64_t batch;          /* B */
  int32_t layout;         /* RECUR_LAYOUT_*: layout of x and y */
  const float* h0;        /* or NULL for the model's default initial state (zeros if none) */
  const float* c0;        /* likewise; LSTM models only */
  const int32_t* lengths; /* (B) each in [0, T], or NULL for all T */
  const int64_t* tokens;  /* models with an embedding (recur_model_vocab_size > 0): token ids
                             (T, B) or (B, T), each in [0, vocab); x is NULL then */
} recur_run_input;

/* Element counts of run()'s outputs for T and B (any pointer may be NULL). */
RECUR_API recur_status recur_run_output_sizes(const recur_model* model, int64_t seq_len, int64_t batch,
                                    int64_t* y_count, int64_t* h_count, int64_t* c_count);

/* Runs the model; writes y (y_count floats) and, when not NULL, h_n and c_n. Each count must
 * equal what recur_run_output_sizes reports (else RECUR_ERR_INVALID_ARGUMENT, nothing
 * written). */
RECUR_API recur_status recur_run(const recur_model* model, const recur_run_input* input,
                       const recur_options* options, float* y, int64_t y_count, float* h_n,
                       int64_t h_count, float* c_n, int64_t c_count);

/* ---- Streaming ------------------------------------------------------------------------ */
/* A state for `batch` streams (zeros). Models with reverse/bidirectional layers:
 * RECUR_ERR_UNSUPPORTED. */
RECUR_API recur_status recur_state_new(const recur_model* model, int64_t batch, recur_state** out_state);
RECUR_API void recur_state_free(recur_state* state); /* NULL is fine */
RECUR_API recur_status recur_state_reset(recur_state* state);
RECUR_API int64_t recur_state_batch(const recur_state* state);
/* Set / read the state, shaped like h0 / c0 (either pointer may be NULL: zeros / skipped). */
RECUR_API recur_status recur_state_set(recur_state* state, const float* h, const float* c);
RECUR_API recur_status recur_state_get(const recur_state* state, float* h, float* c);

/* One time step for every stream: x (B, I) -> y (B, O). x_count and y_count are the element
 * counts of the caller's buffers and must be B*I and B*O. Does not allocate. */
RECUR_API recur_status recur_step(const recur_model* model, recur_state* state, const float* x,
                        int64_t x_count, float* y, int64_t y_count, const recur_options* options);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* RECUR_RECUR_H_ */
