// run()/step() over the gate-panel kernels. Per layer and direction the time loop runs inside
// ONE parallel region: each thread owns a fixed range of gate panels (so its slice of R stays in
// its own L2 for the whole sequence), runs the fused step on it, writes its units of the output,
// and waits once per step on a spin barrier (h is double-buffered, so one barrier suffices); or,
// with many rows and small weights, each thread runs the whole sequence for its own rows, with no
// barrier at all. The input projection (x · W + folded biases) is hoisted out of the step but
// done a chunk of steps at a time, just before those steps: its output is still in cache when
// the steps read it, and the scratch is a chunk, not T*B rows. With many rows (lstm, rnn) each
// step computes it itself instead, on its own accumulators. Bidirectional layers give each
// direction half the threads; threads == 1: no region at all. runtime/plan.cpp chooses.
// Every value is computed by the same arithmetic whatever the thread count or batch (each unit's
// sums run in k order inside one panel), so step() equals run() bit for bit.
#include "runtime/panel_layer.hpp"

#include <omp.h>

#include <algorithm>
#include <cstring>

#include "runtime/parallel.hpp"
#include "runtime/spin_barrier.hpp"

namespace recur {

namespace {

using kernels::ActKind;
using kernels::PanelShape;
using kernels::RecurrentKernels;
using kernels::StepArgs;

size_t sz(int64_t n) { return static_cast<size_t>(n); }

// [begin, end) of `n` items for member i of a group of `size`, as even as possible.
void split(int64_t n, int i, int size, int64_t& begin, int64_t& end) {
  const int64_t per = n / size, extra = n % size;
  begin = i * per + std::min<int64_t>(i, extra);
  end = begin + per + (i < extra ? 1 : 0);
}

// gx (M, G*H) = x (M, I) · W + bias, over panels [p0, p1), rows in blocks that stay in L2.
void project(const RecurrentKernels& k, const PackedLayer& l, const PanelWeights& w, int64_t M,
             const float* const* x, float* gx, int64_t p0, int64_t p1) {
  const int64_t gw = l.gate_width();
  for (int64_t m0 = 0; m0 < M; m0 += kGemmRowBlock) {
    const int64_t rows = std::min(kGemmRowBlock, M - m0);
    k.gates(w.w_shape, w.W.data(), rows, {nullptr, 0, x + m0}, w.bias.data(), gx + m0 * gw, gw, p0, p1);
  }
}

void project_all(const RecurrentKernels& k, const PackedLayer& l, const PanelWeights& w,
                 int64_t M, const float* const* x, float* gx, int threads) {
  const int64_t per_panel = M * l.I * l.G * w.w_shape.units();  // multiply-adds
  parallel_for(projection_threads(l, M, threads), w.w_shape.panels(), 1, per_panel,
               [&](int64_t p0, int64_t p1) { project(k, l, w, M, x, gx, p0, p1); });
}

// The StepArgs of one direction, without the per-step pointers.
StepArgs base_args(const PackedLayer& l, const PackedDirection& d, int64_t B) {
  const PanelWeights& w = d.panels();
  StepArgs a;
  a.shape = w.r_shape;
  a.R = w.R.data();
  a.B = B;
  a.ldh = a.ldh_prev = a.ldh_next = a.ldc = a.ldz = l.H;
  a.bias_n = w.rb_n.empty() ? nullptr : w.rb_n.data();
  a.relu = l.cell == CellType::rnn && d.f.kind == ActKind::relu;
  return a;
}

// One kernel call over panels [p0, p1) of a.shape, sweeping single panels where the plan says.
void sweep(kernels::StepFn fn, StepArgs& a, int64_t p0, int64_t p1) {
  a.single_panels = a.B == 1 && single_panel_sweep(a.shape, p1 - p0, cache_sizes());
  fn(a, p0, p1);
}

// One fused step over panels [p0, p1) (for gru without lbr: zr panels [p0, p1), n panels
// [q0, q1), with `between` called between the two phases). h_next/h/h_prev/c/gx already set.
template <class Between>
void panel_step(const RecurrentKernels& k, const PackedLayer& l, const PanelWeights& w,
                StepArgs a, int64_t p0, int64_t p1, int64_t q0, int64_t q1, Between between) {
  switch (l.cell) {
    case CellType::lstm: return sweep(k.lstm, a, p0, p1);
    case CellType::rnn: return sweep(k.rnn, a, p0, p1);
    case CellType::gru:
      if (l.linear_before_reset) return sweep(k.gru_lbr, a, p0, p1);
      sweep(k.gru_zr, a, p0, p1);
      between();
      a.shape = w.n_shape;
      a.R = w.Rn.data();
      a.h = a.rh;
      a.ldh = a.ldz;
      return sweep(k.gru_n, a, q0, q1);
  }
}

// Sizes ws for `plan` and fills its row maps. Hoisted: per direction and group, the rows that
// take each step, in step order: their inputs (x_rows, gathered by the GEMM; group g of
// direction d from d * most_rows + steps * b0), where each chunk's rows begin (chunk_first),
// and each step's gx row pointers (gx_rows, null for a row past its length). Fused: each step's
// inputs (x_steps; a row past its length reads zeros) and gx_rows only marks the rows that take
// the step (non-null).
void prepare(const PackedLayer& l, const PanelLayerPlan& plan, const Sequence& seq,
             const LayerIO& io, PanelWorkspace& ws) {
  const int64_t B = seq.B, H = l.H, gw = l.gate_width(), dirs = l.dirs, steps = seq.steps;
  const int64_t chunk = plan.chunk, chunks = plan.chunks, groups = plan.groups;
  ws.h.assign(sz(dirs * 2 * B * H), 0.0f);
  ws.c.assign(sz(dirs * B * H), 0.0f);
  ws.z.assign(l.gru_two_phase() ? sz(dirs * B * H) : 0, 0.0f);
  ws.rh.assign(l.gru_two_phase() ? sz(dirs * B * H) : 0, 0.0f);
  const size_t gx_size = plan.fused ? 0 : sz(dirs * chunk * B * gw);
  if (gx_size > ws.gx_size) {
    ws.gx.reset(new float[gx_size]);
    ws.gx_size = gx_size;
  }
  const int64_t most_rows = plan.fused ? 0 : std::max<int64_t>(steps * B, 1);
  const int64_t step_rows = std::max<int64_t>(steps, 1) * B;
  ws.x_rows.assign(sz(dirs * most_rows), nullptr);
  ws.chunk_first.assign(sz(dirs * groups * (chunks + 1)), 0);
  ws.gx_rows.assign(sz(dirs * step_rows), nullptr);
  ws.x_steps.assign(plan.fused ? sz(dirs * step_rows) : 0, nullptr);
  ws.zeros.assign(plan.fused ? sz(l.I) : 0, 0.0f);
  for (int d = 0; d < dirs; ++d) {
    const int64_t srow = l.state_row + d;
    const bool rev = l.reversed(d);
    state_in(io.h0, io.h_width, srow, B, H, ws.h.data() + d * 2 * B * H, H);
    if (l.cell == CellType::lstm) state_in(io.c0, io.c_width, srow, B, H, ws.c.data() + d * B * H, H);
    const float** gx_rows = ws.gx_rows.data() + d * steps * B;
    if (plan.fused) {
      for (int64_t s = 0; s < steps; ++s) {
        for (int64_t b = 0; b < B; ++b) {
          const int64_t r = seq.step_row(s, b, rev);
          const float* x = r >= 0 ? io.x + r * io.x_width : nullptr;
          gx_rows[s * B + b] = x;
          ws.x_steps[sz((d * steps + s) * B + b)] = x ? x : ws.zeros.data();
        }
      }
      continue;
    }
    for (int g = 0; g < groups; ++g) {
      int64_t b0, b1;
      split(B, g, static_cast<int>(groups), b0, b1);
      const float** x_g = ws.x_rows.data() + d * most_rows + steps * b0;
      int64_t* first_g = ws.chunk_first.data() + (d * groups + g) * (chunks + 1);
      const float* gx_g = ws.gx.get() + (d * B + b0) * chunk * gw;
      int64_t n = 0;  // active rows of the group so far
      for (int64_t s = 0; s < steps; ++s) {
        if (s % chunk == 0) first_g[s / chunk] = n;
        const int64_t m0 = first_g[s / chunk];
        for (int64_t b = b0; b < b1; ++b) {
          const int64_t r = seq.step_row(s, b, rev);
          if (r < 0) continue;
          x_g[n] = io.x + r * io.x_width;
          gx_rows[s * B + b] = gx_g + (n - m0) * gw;
          ++n;
        }
      }
      first_g[chunks] = n;
    }
  }
}

// Direction d's time loop over the rows of group g, for member i of a team of `size` threads
// splitting its units. Each member projects the chunk for its own units: W's panels hold the
// units of R's panels, panel for panel (k.shape gives G=3 and G=2 the same sub-blocks, so this
// holds for gru's two-phase z, r panels too), so that is W panels [p0, p1). The gru n phase,
// whose units differ, reads the others' only after the barrier between its two phases. A team
// of one projects on up to project_threads threads.
struct DirectionLoop {
  const RecurrentKernels& k;
  const PackedLayer& l;
  const PanelLayerPlan& plan;
  const Sequence& seq;
  const LayerIO& io;
  PanelWorkspace& ws;

  void operator()(int d, int g, int i, int size, SpinBarrier& barrier, int project_threads) const {
    const int64_t B = seq.B, H = l.H, gw = l.gate_width(), steps = seq.steps, chunk = plan.chunk;
    int64_t b0, b1;
    split(B, g, plan.groups, b0, b1);
    const PanelWeights& w = l.dir[sz(d)].panels();
    const bool two_phase = l.gru_two_phase();
    int64_t p0, p1, q0, q1;
    split(w.r_shape.panels(), i, size, p0, p1);
    split(w.n_shape.panels(), i, size, q0, q1);
    // Units whose output this member writes: those of its last phase.
    const int64_t pu = two_phase ? w.n_shape.units() : w.r_shape.units();
    const int64_t u0 = std::min(H, (two_phase ? q0 : p0) * pu);
    const int64_t u1 = std::min(H, (two_phase ? q1 : p1) * pu);
    const bool rev = l.reversed(d);
    StepArgs a = base_args(l, l.dir[sz(d)], b1 - b0);
    a.prefetch_next = plan.prefetch_next;
    if (plan.fused) {
      a.W = w.W.data();
      a.w_shape = w.w_shape;
      a.bias = w.bias.data();
    }
    float* h2 = ws.h.data() + d * 2 * B * H + b0 * H;  // rows b0.. of both buffers
    a.c = ws.c.data() + (d * B + b0) * H;
    if (two_phase) {
      a.z = ws.z.data() + (d * B + b0) * H;
      a.rh = ws.rh.data() + (d * B + b0) * H;
    }
    const int64_t most_rows = plan.fused ? 0 : std::max<int64_t>(steps * B, 1);
    const float* const* x_g = plan.fused ? nullptr : ws.x_rows.data() + d * most_rows + steps * b0;
    const int64_t* first_g = ws.chunk_first.data() + (d * plan.groups + g) * (plan.chunks + 1);
    float* gx_g = plan.fused ? nullptr : ws.gx.get() + (d * B + b0) * chunk * gw;
    for (int64_t s = 0; s < steps; ++s) {
      if (!plan.fused && s % chunk == 0) {
        const int64_t m0 = first_g[s / chunk], m1 = first_g[s / chunk + 1];
        if (size == 1) {
          project_all(k, l, w, m1 - m0, x_g + m0, gx_g, project_threads);
        } else {
          project(k, l, w, m1 - m0, x_g + m0, gx_g, p0, p1);
        }
      }
      a.gx = ws.gx_rows.data() + (d * steps + s) * B + b0;
      if (plan.fused) a.x = ws.x_steps.data() + (d * steps + s) * B + b0;
      a.h = a.h_prev = h2 + (s & 1) * B * H;
      a.h_next = h2 + ((s + 1) & 1) * B * H;
      a.backward = (s & 1) != 0;  // zig-zag over the panels: the last ones read are still cached
      panel_step(k, l, w, a, p0, p1, q0, q1, [&] { barrier.wait(); });
      if (u1 > u0) {
        for (int64_t b = b0; b < b1; ++b) {
          const int64_t r = seq.step_row(s, b, rev);
          if (r < 0) continue;
          std::memcpy(io.y + r * l.width() + d * H + u0, a.h_next + (b - b0) * H + u0, sizeof(float) * sz(u1 - u0));
        }
      }
      barrier.wait();
    }
  }
};

}  // namespace

void run_panel_layer(const Model::Impl& m, const PackedLayer& l, const PanelLayerPlan& plan,
                     const Sequence& seq, const LayerIO& io, PanelWorkspace& ws) {
  prepare(l, plan, seq, io, ws);
  const DirectionLoop loop{*m.k->panels, l, plan, seq, io, ws};
  const int dirs = l.dirs, team = plan.team, groups = plan.groups;
  if (team <= 1) {
    SpinBarrier none(1);
    for (int d = 0; d < dirs; ++d) loop(d, 0, 0, 1, none, plan.threads);
  } else {
    // Bidirectional with >= 2 threads: forward on [0, first), reverse on [first, team).
    const bool together = dirs == 2;
    const int first = together ? team / 2 : team;
    SpinBarrier forward(first), backward(team - first);
#pragma omp parallel num_threads(team)
    {
      DenormalsFlushed ftz;
      const int t = omp_get_thread_num();
      const int n = omp_get_num_threads();
      SpinBarrier alone(1);
      if (n != team) {
        // The runtime gave fewer threads than asked: one thread does everything.
        if (t == 0) {
          for (int d = 0; d < dirs; ++d) {
            for (int g = 0; g < groups; ++g) loop(d, g, 0, 1, alone, 1);
          }
        }
      } else if (plan.by_rows) {
        loop(0, t, 0, 1, alone, 1);
      } else if (!together) {
        loop(0, 0, t, team, forward, 1);
      } else if (t < first) {
        loop(0, 0, t, first, forward, 1);
      } else {
        loop(1, 0, t - first, team - first, backward, 1);
      }
    }
  }
  for (int d = 0; d < dirs; ++d) {
    const int64_t srow = l.state_row + d, B = seq.B, H = l.H;
    state_out(ws.h.data() + (d * 2 + (seq.steps & 1)) * B * H, H, srow, B, H, io.h_n, io.h_width);
    if (l.cell == CellType::lstm && io.c_n) state_out(ws.c.data() + d * B * H, H, srow, B, H, io.c_n, io.c_width);
  }
}

void PanelStepScratch::size_for(const Model::Impl& m, int64_t B) {
  int64_t gw = 0, H = 0;
  for (const PackedLayer& l : m.layers) {
    if (!l.gate_panels) continue;
    gw = std::max(gw, l.gate_width());
    H = std::max(H, l.H);
  }
  x_rows.assign(sz(B), nullptr);
  gx_rows.assign(sz(B), nullptr);
  gx.assign(sz(B * gw), 0.0f);
  h_next.assign(sz(B * H), 0.0f);
  z.assign(sz(B * H), 0.0f);
  rh.assign(sz(B * H), 0.0f);
}

void step_panel_layer(const Model::Impl& m, const PackedLayer& l, int64_t B, const float* x,
                      int64_t ld_x, const float* h, int64_t ldh, float* c, int64_t ldc,
                      PanelStepScratch& s, int threads) {
  const RecurrentKernels& k = *m.k->panels;
  const PanelWeights& w = l.dir[0].panels();
  const int64_t gw = l.gate_width();
  for (int64_t b = 0; b < B; ++b) s.x_rows[sz(b)] = x + b * ld_x;
  project_all(k, l, w, B, s.x_rows.data(), s.gx.data(), threads);
  for (int64_t b = 0; b < B; ++b) s.gx_rows[sz(b)] = s.gx.data() + b * gw;

  StepArgs a = base_args(l, l.dir[0], B);
  a.gx = s.gx_rows.data();
  a.h = a.h_prev = h;
  a.ldh = a.ldh_prev = ldh;
  a.h_next = s.h_next.data();
  a.ldh_next = l.H;
  a.c = c;
  a.ldc = ldc;
  a.z = s.z.data();  // (B, H) each
  a.rh = s.rh.data();
  a.ldz = l.H;
  threads = step_threads(l, B, threads);
  const PanelShape& rs = w.r_shape;
  if (!l.gru_two_phase()) {
    parallel_for(threads, rs.panels(), 1, rs.panel_floats() * B, [&](int64_t p0, int64_t p1) {
      panel_step(k, l, w, a, p0, p1, 0, 0, [] {});
    });
    return;
  }
  parallel_for(threads, rs.panels(), 1, rs.panel_floats() * B, [&](int64_t p0, int64_t p1) {
    StepArgs zr = a;
    sweep(k.gru_zr, zr, p0, p1);
  });
  StepArgs n = a;
  n.shape = w.n_shape;
  n.R = w.Rn.data();
  n.h = a.rh;
  n.ldh = a.ldz;
  parallel_for(threads, n.shape.panels(), 1, n.shape.panel_floats() * B, [&](int64_t q0, int64_t q1) {
    StepArgs nq = n;
    sweep(k.gru_n, nq, q0, q1);
  });
}

}  // namespace recur
