// Vector cells of the int8 layers (runtime/int8_cells.hpp).
#include "runtime/int8_cells.hpp"

#include "runtime/model_impl.hpp"

namespace recur {

namespace {
void add(int64_t n, const float* a, float* b) {
  for (int64_t j = 0; j < n; ++j) b[j] += a[j];
}
}  // namespace

bool vector_cells_apply(const PackedLayer& layer, const PackedDirection& w) {
  using kernels::ActKind;
  if (layer.clip > 0.0f) return false;
  switch (layer.cell) {
    case CellType::rnn: return w.f.kind == ActKind::tanh;
    case CellType::gru: return w.f.kind == ActKind::sigmoid && w.g.kind == ActKind::tanh;
    case CellType::lstm:
      return !layer.input_forget && w.generic().P.empty() && w.f.kind == ActKind::sigmoid &&
             w.g.kind == ActKind::tanh && w.h.kind == ActKind::tanh;
  }
  return false;
}

void lstm_cells(const kernels::RecurrentKernels& v, int64_t H, int64_t n, const float* gx,
                float* pre, float* c, float* hc) {
  float* i = pre;
  float* f = pre + H;
  float* g = pre + 2 * H;
  float* o = pre + 3 * H;
  for (int64_t gate = 0; gate < 4; ++gate) add(n, gx + gate * H, pre + gate * H);
  v.sigmoid(n, i, i);
  v.sigmoid(n, f, f);
  v.tanh(n, g, g);
  v.sigmoid(n, o, o);
  for (int64_t j = 0; j < n; ++j) c[j] = f[j] * c[j] + i[j] * g[j];
  v.tanh(n, c, g);  // g holds tanh(c) now
  for (int64_t j = 0; j < n; ++j) hc[j] = o[j] * g[j];
}

void rnn_cells(const kernels::RecurrentKernels& v, int64_t n, const float* gx, float* pre, float* h) {
  add(n, gx, pre);
  v.tanh(n, pre, h);
}

void gru_reset_cells(const kernels::RecurrentKernels& v, int64_t H, int64_t n, const float* gx,
                     float* rec, const float* h_prev, float* rh) {
  float* r = rec + H;
  add(n, gx + H, r);
  v.sigmoid(n, r, r);
  for (int64_t j = 0; j < n; ++j) rh[j] = r[j] * h_prev[j];
}

void gru_cells(const kernels::RecurrentKernels& v, int64_t H, int64_t n, bool linear_before_reset,
               const float* gx, float* rec, const float* h_prev, float* h) {
  float* z = rec;
  float* r = rec + H;
  float* nn = rec + 2 * H;
  add(n, gx, z);
  v.sigmoid(n, z, z);
  if (linear_before_reset) {
    add(n, gx + H, r);
    v.sigmoid(n, r, r);
    for (int64_t j = 0; j < n; ++j) nn[j] = gx[2 * H + j] + r[j] * nn[j];
  } else {
    add(n, gx + 2 * H, nn);
  }
  v.tanh(n, nn, nn);
  for (int64_t j = 0; j < n; ++j) h[j] = (1.0f - z[j]) * nn[j] + z[j] * h_prev[j];
}

}  // namespace recur
