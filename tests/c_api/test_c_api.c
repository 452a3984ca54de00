/* The C API used from C: load, run, stream with step (equal to run bit for bit), state
 * set/get/reset, and the error codes of bad calls. Usage: test_c_api DIR (made by
 * make_c_api_models). Exit 0 when every check passes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recur/recur.h"

static int g_failures = 0;

#define CHECK(cond)                                                   \
  do {                                                                \
    if (!(cond)) {                                                    \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++g_failures;                                                   \
    }                                                                 \
  } while (0)

/* Expects `call` to return `code` and recur_last_error() to mention `needle`. */
#define CHECK_ERR(call, code, needle)                                             \
  do {                                                                            \
    recur_status st_ = (call);                                                    \
    if (st_ != (code) || strstr(recur_last_error(), (needle)) == NULL) {          \
      fprintf(stderr, "%s:%d: %s returned %s (%s), expected %s mentioning '%s'\n", \
              __FILE__, __LINE__, #call, recur_status_name(st_), recur_last_error(), \
              recur_status_name(code), (needle));                                 \
      ++g_failures;                                                               \
    }                                                                             \
  } while (0)

static float* random_floats(size_t n, unsigned seed) {
  float* v = (float*)malloc(n * sizeof(float));
  size_t i;
  unsigned s = seed;
  for (i = 0; i < n; ++i) {
    s = s * 1103515245u + 12345u;
    v[i] = (float)((s >> 8) & 0xFFFF) / 32768.0f - 1.0f;
  }
  return v;
}

static void path_in(char* out, size_t cap, const char* dir, const char* name) {
  snprintf(out, cap, "%s/%s", dir, name);
}

/* run over (T, B, I) == T calls of step, bit for bit, for outputs and final state. */
static void check_step_equals_run(const recur_model* m, int64_t T, int64_t B) {
  const int64_t I = recur_model_input_size(m), O = recur_model_output_size(m);
  int64_t y_count = 0, h_count = 0, c_count = 0, t;
  float *x, *y, *h, *c, *ys, *hs, *cs;
  recur_run_input in;
  recur_state* s = NULL;
  recur_options one = recur_default_options();
  one.threads = 1;

  CHECK(recur_run_output_sizes(m, T, B, &y_count, &h_count, &c_count) == RECUR_OK);
  CHECK(y_count == T * B * O);
  CHECK(h_count == recur_model_state_rows(m) * B * recur_model_state_width(m));
  CHECK(c_count == recur_model_state_rows(m) * B * recur_model_cell_width(m));
  x = random_floats((size_t)(T * B * I), 7u);
  y = (float*)calloc((size_t)y_count, sizeof(float));
  h = (float*)calloc((size_t)h_count + 1, sizeof(float));
  c = (float*)calloc((size_t)c_count + 1, sizeof(float));
  ys = (float*)calloc((size_t)y_count, sizeof(float));
  hs = (float*)calloc((size_t)h_count + 1, sizeof(float));
  cs = (float*)calloc((size_t)c_count + 1, sizeof(float));

  memset(&in, 0, sizeof in);
  in.x = x;
  in.seq_len = T;
  in.batch = B;
  CHECK(recur_run(m, &in, NULL, y, y_count, h, h_count, c_count ? c : NULL, c_count) == RECUR_OK);

  CHECK(recur_state_new(m, B, &s) == RECUR_OK);
  CHECK(recur_state_batch(s) == B);
  for (t = 0; t < T; ++t) {
    CHECK(recur_step(m, s, x + t * B * I, B * I, ys + t * B * O, B * O, t % 2 ? &one : NULL) ==
          RECUR_OK);
  }
  CHECK(recur_state_get(s, hs, c_count ? cs : NULL) == RECUR_OK);
  CHECK(memcmp(y, ys, (size_t)y_count * sizeof(float)) == 0);
  CHECK(memcmp(h, hs, (size_t)h_count * sizeof(float)) == 0);
  CHECK(memcmp(c, cs, (size_t)c_count * sizeof(float)) == 0);

  /* reset: the first step again gives the first output. */
  CHECK(recur_state_reset(s) == RECUR_OK);
  CHECK(recur_step(m, s, x, B * I, ys, B * O, NULL) == RECUR_OK);
  CHECK(memcmp(y, ys, (size_t)(B * O) * sizeof(float)) == 0);
  /* set: a state restored from run's final state continues like it. */
  CHECK(recur_state_set(s, h, c_count ? c : NULL) == RECUR_OK);
  CHECK(recur_state_get(s, hs, c_count ? cs : NULL) == RECUR_OK);
  CHECK(memcmp(h, hs, (size_t)h_count * sizeof(float)) == 0);

  recur_state_free(s);
  free(x);
  free(y);
  free(h);
  free(c);
  free(ys);
  free(hs);
  free(cs);
}

static void check_errors(const recur_model* lstm, const recur_model* gru, const char* dir) {
  char path[4096];
  recur_model* m = NULL;
  recur_state *s = NULL, *sg = NULL;
  recur_run_input in;
  const int64_t T = 3, B = 2, I = recur_model_input_size(lstm), O = recur_model_output_size(lstm);
  int64_t y_count = 0;
  float* x = random_floats((size_t)(T * B * I), 3u);
  float* y;
  int32_t lengths[2] = {3, 4};

  CHECK_ERR(recur_model_load("/nonexistent/dir/model.recur", &m), RECUR_ERR_IO, "model.recur");
  CHECK(m == NULL);
  CHECK_ERR(recur_model_load(NULL, &m), RECUR_ERR_INVALID_ARGUMENT, "path");
  path_in(path, sizeof path, dir, "lstm.recur");
  CHECK_ERR(recur_model_load(path, NULL), RECUR_ERR_INVALID_ARGUMENT, "out_model");
  path_in(path, sizeof path, dir, "bidir.recur");
  CHECK(recur_model_load(path, &m) == RECUR_OK);
  CHECK_ERR(recur_state_new(m, 1, &s), RECUR_ERR_UNSUPPORTED, "forward-only");
  CHECK(s == NULL);
  recur_model_free(m);
  m = NULL;
  {
    recur_load_options lo = recur_default_load_options();
    path_in(path, sizeof path, dir, "gru.recur");
    lo.isa = "sse9";
    CHECK_ERR(recur_model_load_ex(path, &lo, &m), RECUR_ERR_INVALID_ARGUMENT, "isa 'sse9'");
    CHECK(m == NULL);
    lo.isa = "scalar";
    CHECK(recur_model_load_ex(path, &lo, &m) == RECUR_OK);
    CHECK(m != NULL && strcmp(recur_model_isa(m), "scalar") == 0);
    recur_model_free(m);
    m = NULL;
    lo.recurrent_weights = "fp16";
    CHECK_ERR(recur_model_load_ex(path, &lo, &m), RECUR_ERR_INVALID_ARGUMENT, "recurrent_weights 'fp16'");
    CHECK(m == NULL);
    lo.recurrent_weights = "bf16";
    CHECK(recur_model_load_ex(path, &lo, &m) == RECUR_OK);
    CHECK(m != NULL);
    recur_model_free(m);
    m = NULL;
    lo.threads = -1;
    CHECK_ERR(recur_model_load_ex(path, &lo, &m), RECUR_ERR_INVALID_ARGUMENT, "threads is -1");
    CHECK(m == NULL);
    lo.threads = 1;
    CHECK(recur_model_load_ex(path, &lo, &m) == RECUR_OK);
    recur_model_free(m);
  }
  recur_model_free(NULL);
  recur_state_free(NULL);

  CHECK(recur_run_output_sizes(lstm, T, B, &y_count, NULL, NULL) == RECUR_OK);
  y = (float*)calloc((size_t)y_count, sizeof(float));
  memset(&in, 0, sizeof in);
  in.x = x;
  in.seq_len = T;
  in.batch = B;
  CHECK_ERR(recur_run(lstm, &in, NULL, y, y_count - 1, NULL, 0, NULL, 0),
            RECUR_ERR_INVALID_ARGUMENT, "y_count");
  CHECK_ERR(recur_run(NULL, &in, NULL, y, y_count, NULL, 0, NULL, 0), RECUR_ERR_INVALID_ARGUMENT,
            "model is NULL");
  in.lengths = lengths;
  CHECK_ERR(recur_run(lstm, &in, NULL, y, y_count, NULL, 0, NULL, 0), RECUR_ERR_INVALID_ARGUMENT,
            "lengths[1] is 4");
  lengths[1] = -1;
  CHECK_ERR(recur_run(lstm, &in, NULL, y, y_count, NULL, 0, NULL, 0), RECUR_ERR_INVALID_ARGUMENT,
            "lengths[1] is -1");
  in.lengths = NULL;
  in.layout = 3;
  CHECK_ERR(recur_run(lstm, &in, NULL, y, y_count, NULL, 0, NULL, 0), RECUR_ERR_INVALID_ARGUMENT,
            "layout is 3");
  in.layout = RECUR_LAYOUT_MODEL;
  CHECK(recur_model_batch_first(lstm) == 0);
  CHECK(recur_model_batch_first(NULL) == 0);
  x[4] = NAN;
  CHECK_ERR(recur_run(lstm, &in, NULL, y, y_count, NULL, 0, NULL, 0), RECUR_ERR_NON_FINITE,
            "x has a non-finite value (NaN)");
  x[4] = 0.5f;
  in.seq_len = 0;
  CHECK_ERR(recur_run(lstm, &in, NULL, y, y_count, NULL, 0, NULL, 0), RECUR_ERR_INVALID_ARGUMENT,
            "seq_len");
  in.seq_len = T;
  in.x = NULL;
  CHECK_ERR(recur_run(lstm, &in, NULL, y, y_count, NULL, 0, NULL, 0), RECUR_ERR_INVALID_ARGUMENT,
            "x is null");
  in.x = x;
  CHECK(recur_run(lstm, &in, NULL, y, y_count, NULL, 0, NULL, 0) == RECUR_OK);

  CHECK(recur_state_new(gru, B, &sg) == RECUR_OK);
  CHECK_ERR(recur_state_new(lstm, 0, &s), RECUR_ERR_INVALID_ARGUMENT, "batch is 0");
  CHECK(s == NULL);
  CHECK(recur_state_new(lstm, B, &s) == RECUR_OK);
  CHECK_ERR(recur_step(lstm, s, x, B * I + 1, y, B * O, NULL), RECUR_ERR_INVALID_ARGUMENT,
            "x_count");
  CHECK_ERR(recur_step(lstm, s, x, I, y, O, NULL), RECUR_ERR_INVALID_ARGUMENT, "x_count");
  CHECK_ERR(recur_step(lstm, s, x, B * I, y, B * O - 1, NULL), RECUR_ERR_INVALID_ARGUMENT,
            "y_count");
  CHECK_ERR(recur_step(lstm, sg, x, B * I, y, B * O, NULL), RECUR_ERR_INVALID_ARGUMENT,
            "another model");
  CHECK_ERR(recur_step(lstm, s, NULL, B * I, y, B * O, NULL), RECUR_ERR_INVALID_ARGUMENT,
            "x is null");
  CHECK_ERR(recur_step(lstm, NULL, x, B * I, y, B * O, NULL), RECUR_ERR_INVALID_ARGUMENT,
            "state is NULL");
  x[1] = INFINITY;
  CHECK_ERR(recur_step(lstm, s, x, B * I, y, B * O, NULL), RECUR_ERR_NON_FINITE, "Inf");
  x[1] = 0.0f;
  CHECK_ERR(recur_state_set(sg, NULL, x), RECUR_ERR_INVALID_ARGUMENT, "no lstm");
  CHECK(recur_step(lstm, s, x, B * I, y, B * O, NULL) == RECUR_OK);

  CHECK(strcmp(recur_status_name(RECUR_ERR_IO), "io") == 0);
  CHECK(strcmp(recur_status_name(RECUR_ERR_INVALID_ARGUMENT), "invalid_argument") == 0);
  recur_state_free(s);
  recur_state_free(sg);
  free(x);
  free(y);
}

int main(int argc, char** argv) {
  char path[4096];
  recur_model *lstm = NULL, *gru = NULL;
  if (argc != 2) {
    fprintf(stderr, "usage: test_c_api DIR\n");
    return 2;
  }
  path_in(path, sizeof path, argv[1], "lstm.recur");
  if (recur_model_load(path, &lstm) != RECUR_OK) {
    fprintf(stderr, "load %s: %s\n", path, recur_last_error());
    return 1;
  }
  path_in(path, sizeof path, argv[1], "gru.recur");
  if (recur_model_load(path, &gru) != RECUR_OK) {
    fprintf(stderr, "load %s: %s\n", path, recur_last_error());
    return 1;
  }
  CHECK(recur_model_input_size(lstm) == 5);
  CHECK(recur_model_output_size(lstm) == 3);
  CHECK(recur_model_state_rows(lstm) == 2);
  CHECK(recur_model_state_width(lstm) == 7);
  CHECK(recur_model_cell_width(lstm) == 7);
  CHECK(recur_model_cell_width(gru) == 0);
  CHECK(strlen(recur_model_isa(lstm)) > 0);

  check_step_equals_run(lstm, 6, 3);
  check_step_equals_run(gru, 5, 1);
  check_errors(lstm, gru, argv[1]);

  recur_model_free(lstm);
  recur_model_free(gru);
  if (g_failures) {
    fprintf(stderr, "%d check(s) failed\n", g_failures);
    return 1;
  }
  printf("C API: all checks passed\n");
  return 0;
}
