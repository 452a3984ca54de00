// advance(), run_generic_layer(), input_projection(), apply_head() over the generic kernels.
// Work is split across threads by gate columns (GEMMs) and hidden units (cells); every split
// keeps each value's arithmetic unchanged, so any thread count gives identical bits.
#include "runtime/generic_layer.hpp"

#include <algorithm>
#include <cstring>

#include "runtime/parallel.hpp"

namespace recur {

namespace {

constexpr int64_t kColumnGrain = 16;  // GEMM columns per chunk
constexpr int64_t kUnitGrain = 16;    // hidden units per chunk
constexpr int64_t kRowGrain = 4;      // rows per chunk for row-split GEMMs
constexpr int64_t kCellWork = 32;     // multiply-add equivalents of one unit's cell update

// C (M, N) = A (M, K) · B + bias, split over columns.
void gemm_by_columns(const kernels::KernelTable& k, int threads, int64_t M, int64_t N, int64_t K,
                     const float* A, int64_t lda, const float* B, int64_t ldb, const float* bias,
                     float* C, int64_t ldc) {
  parallel_for(threads, N, kColumnGrain, M * K, [&](int64_t n0, int64_t n1) {
    k.gemm(M, n1 - n0, K, A, lda, B + n0, ldb, bias ? bias + n0 : nullptr, C + n0, ldc);
  });
}

// C (M, N) = A (M, K) · B + bias, split over rows.
void gemm_by_rows(const kernels::KernelTable& k, int threads, int64_t M, int64_t N, int64_t K,
                  const float* A, int64_t lda, const float* B, int64_t ldb, const float* bias,
                  float* C, int64_t ldc) {
  parallel_for(threads, M, kRowGrain, N * K, [&](int64_t m0, int64_t m1) {
    k.gemm(m1 - m0, N, K, A + m0 * lda, lda, B, ldb, bias, C + m0 * ldc, ldc);
  });
}

}  // namespace

void StepScratch::size_for(const Model::Impl& model, int64_t b) {
  batch = b;
  const auto n = [b](int64_t w) { return static_cast<size_t>(b * w); };
  rec.assign(n(model.max_gate_width), 0.0f);
  rh.assign(n(model.max_hidden), 0.0f);
  hc.assign(n(model.max_hidden), 0.0f);
  h_next.assign(n(model.max_hout), 0.0f);
  gx_rows.assign(static_cast<size_t>(b), nullptr);
  active.assign(static_cast<size_t>(b), 1);
}

void input_projection(const Model::Impl& model, const PackedLayer& layer, int d, int64_t M,
                      const float* x, int64_t ld_x, float* gx, int threads) {
  const GenericWeights& w = layer.dir[static_cast<size_t>(d)].generic();
  const int64_t gw = layer.gate_width();
  gemm_by_rows(*model.k, threads, M, gw, layer.I, x, ld_x, w.W.data(), gw, w.Wb.data(), gx, gw);
}

void apply_head(const Model::Impl& model, int64_t M, const float* in, int64_t ld_in, float* y,
                int threads) {
  const PackedHead& head = *model.head;
  const kernels::KernelTable& k = *model.k;
  gemm_by_rows(k, threads, M, head.out, head.in, in, ld_in, head.W.data(), head.out,
               head.b.data(), y, head.out);
  if (head.softmax) {
    parallel_for(threads, M, kRowGrain, head.out * kCellWork, [&](int64_t m0, int64_t m1) {
      for (int64_t m = m0; m < m1; ++m) k.softmax(head.out, y + m * head.out);
    });
  }
}

void advance(const Model::Impl& model, const PackedLayer& layer, int d, const float* h,
             int64_t ldh, float* c, int64_t ldc, StepScratch& s, int threads) {
  const kernels::KernelTable& k = *model.k;
  const PackedDirection& pd = layer.dir[static_cast<size_t>(d)];
  const GenericWeights& w = pd.generic();
  const int64_t B = s.batch;
  const int64_t H = layer.H;
  const int64_t Hout = layer.Hout;
  const int64_t gw = layer.gate_width();
  float* rec = s.rec.data();        // (B, gw)
  float* h_next = s.h_next.data();  // (B, Hout)
  const float* const* gx = s.gx_rows.data();
  const uint8_t* active = s.active.data();

  switch (layer.cell) {
    case CellType::rnn: {
      // rec = h · R + Rb; h' = f(clip(gx + rec))
      gemm_by_columns(k, threads, B, gw, Hout, h, ldh, w.R.data(), gw, w.Rb.data(), rec, gw);
      const kernels::RnnCellParams p{pd.f, layer.clip};
      parallel_for(threads, H, kUnitGrain, B * kCellWork, [&](int64_t j0, int64_t j1) {
        for (int64_t b = 0; b < B; ++b) {
          if (!active[b]) continue;
          k.rnn_cell(p, j1 - j0, gx[b] + j0, rec + b * gw + j0, h_next + b * Hout + j0);
        }
      });
      break;
    }
    case CellType::lstm: {
      // rec = h · R + Rb; c, o ⊙ h(c) by the cell; projection h' = (o ⊙ h(c)) · Wp.
      gemm_by_columns(k, threads, B, gw, Hout, h, ldh, w.R.data(), gw, w.Rb.data(), rec, gw);
      const bool project = !w.Wp.empty();
      float* hc = project ? s.hc.data() : h_next;  // (B, H), H == Hout without projection
      kernels::LstmCellParams p;
      p.f = pd.f;
      p.g = pd.g;
      p.h = pd.h;
      p.clip = layer.clip;
      p.input_forget = layer.input_forget;
      p.H = H;
      parallel_for(threads, H, kUnitGrain, B * kCellWork, [&](int64_t j0, int64_t j1) {
        kernels::LstmCellParams pj = p;
        pj.P = w.P.empty() ? nullptr : w.P.data() + j0;
        for (int64_t b = 0; b < B; ++b) {
          if (!active[b]) continue;
          k.lstm_cell(pj, j1 - j0, gx[b] + j0, rec + b * gw + j0, c + b * ldc + j0, hc + b * H + j0);
        }
      });
      if (project) {
        gemm_by_columns(k, threads, B, Hout, H, hc, H, w.Wp.data(), Hout, nullptr, h_next, Hout);
      }
      break;
    }
    case CellType::gru: {
      kernels::GruCellParams p;
      p.f = pd.f;
      p.g = pd.g;
      p.clip = layer.clip;
      p.linear_before_reset = layer.linear_before_reset;
      p.H = H;
      if (layer.linear_before_reset) {
        // rec = h · R + Rb over all three gates.
        gemm_by_columns(k, threads, B, gw, Hout, h, ldh, w.R.data(), gw, w.Rb.data(), rec, gw);
      } else {
        // z, r first; then rec_n = (r ⊙ h) · R_n + Rb_n.
        const int64_t zr = 2 * H;
        gemm_by_columns(k, threads, B, zr, Hout, h, ldh, w.R.data(), gw, w.Rb.data(), rec, gw);
        float* rh = s.rh.data();  // (B, H)
        parallel_for(threads, H, kUnitGrain, B * kCellWork, [&](int64_t j0, int64_t j1) {
          for (int64_t b = 0; b < B; ++b) {
            if (!active[b]) continue;
            k.gru_reset(p, j1 - j0, gx[b] + j0, rec + b * gw + j0, h + b * ldh + j0, rh + b * H + j0);
          }
        });
        gemm_by_columns(k, threads, B, H, H, rh, H, w.R.data() + zr, gw, w.Rb.data() + zr,
                        rec + zr, gw);
      }
      parallel_for(threads, H, kUnitGrain, B * kCellWork, [&](int64_t j0, int64_t j1) {
        for (int64_t b = 0; b < B; ++b) {
          if (!active[b]) continue;
          k.gru_cell(p, j1 - j0, gx[b] + j0, rec + b * gw + j0, h + b * ldh + j0,
                     h_next + b * Hout + j0);
        }
      });
      break;
    }
  }

  // Rows that do not take this step keep their state.
  for (int64_t b = 0; b < B; ++b) {
    if (active[b]) continue;
    std::memcpy(h_next + b * Hout, h + b * ldh, sizeof(float) * static_cast<size_t>(Hout));
  }
}

void run_generic_layer(const Model::Impl& m, const PackedLayer& layer, const Sequence& seq,
                       const LayerIO& io, GenericWorkspace& ws, int threads) {
  const int64_t T = seq.T, B = seq.B, Hout = layer.Hout, H = layer.H, gw = layer.gate_width();
  const int64_t width = layer.width();
  StepScratch& scratch = ws.scratch;
  for (int d = 0; d < layer.dirs; ++d) {
    input_projection(m, layer, d, T * B, io.x, io.x_width, ws.gx.data(), threads);
    // Initial state of this (layer, direction) from h0/c0 rows, else zeros.
    const int64_t srow = layer.state_row + d;
    state_in(io.h0, io.h_width, srow, B, Hout, ws.h.data(), Hout);
    if (layer.cell == CellType::lstm) state_in(io.c0, io.c_width, srow, B, H, ws.c.data(), H);
    const bool reversed = layer.reversed(d);
    for (int64_t s = 0; s < seq.steps; ++s) {
      for (int64_t b = 0; b < B; ++b) {
        const int64_t r = seq.step_row(s, b, reversed);
        scratch.active[static_cast<size_t>(b)] = r >= 0;
        scratch.gx_rows[static_cast<size_t>(b)] = r >= 0 ? ws.gx.data() + r * gw : nullptr;
      }
      advance(m, layer, d, ws.h.data(), Hout, ws.c.data(), H, scratch, threads);
      std::memcpy(ws.h.data(), scratch.h_next.data(), sizeof(float) * static_cast<size_t>(B * Hout));
      for (int64_t b = 0; b < B; ++b) {
        const int64_t r = seq.step_row(s, b, reversed);
        if (r < 0) continue;
        std::memcpy(io.y + r * width + d * Hout, ws.h.data() + b * Hout, sizeof(float) * static_cast<size_t>(Hout));
      }
    }
    // Final state: each row's state after its own last step (h0 when its length is 0).
    state_out(ws.h.data(), Hout, srow, B, Hout, io.h_n, io.h_width);
    if (layer.cell == CellType::lstm) state_out(ws.c.data(), H, srow, B, H, io.c_n, io.c_width);
  }
}

}  // namespace recur
