// run()/step() over the fused kernels. Per layer and direction, the time loop runs inside ONE
// parallel region: each thread owns a fixed range of gate panels (so its slice of R stays in its
// own L2 for the whole sequence), runs the fused step on it, writes its units of the output, and
// waits once per step on a spin barrier (h is double-buffered, so one barrier suffices); or, with
// many rows and small weights, each thread runs the whole sequence for its own rows, with no
// barrier at all. The input projection (x · W + folded biases) is hoisted out of the step but
// done a chunk of steps at a time (about kChunkRows rows), just before those steps: its output
// is still in cache when the steps read it, and the scratch is a chunk, not T*B rows. With many
// rows (lstm, rnn) each step computes it itself instead, on its own accumulators.
// Bidirectional layers give each direction half the threads. threads == 1: no region at all.
// Every value is computed by the same arithmetic whatever the thread count or batch (each unit's
// sums run in k order inside one panel), so step() equals run() bit for bit.
#include "runtime/fast_recurrence.hpp"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "runtime/contention.hpp"
#include "runtime/parallel.hpp"
#include "runtime/spin_barrier.hpp"

namespace recur {

namespace {

using kernels::ActKind;
using kernels::PanelShape;
using kernels::RecurrentKernels;
using kernels::StepArgs;

constexpr int64_t kGemmRowBlock = 192;  // input-projection rows per pass over the panels
constexpr int64_t kChunkRows = 64;     // input-projection rows per chunk of steps (at least one step)
// Below these amounts of work another thread costs more (wake-up, a barrier per step) than it
// saves (e.g. H=64, B=4: 64K multiply-adds per step): the thread count is an upper bound, and
// any count gives the same bits.
constexpr int64_t kMinStepFmasPerThread = 64 << 10;     // recurrent multiply-adds per step
constexpr int64_t kMinGemmFmasPerThread = 1 << 21;     // input-projection multiply-adds
// With at least this many rows per thread, threads split the rows rather than the units, if the
// weights are small enough for every thread to stream all of them from the shared cache each
// step (beyond, splitting the units halves that traffic). A/B at B=64, 2 threads, Zen 4: rows
// faster at (8,64) (1.5x), (256,256) (5%), equal at (512,512) (8 MiB); units 4-7% faster at
// (240,1024), (1024,1024), (1536,1536).
constexpr int64_t kMinRowsPerThread = 16;
constexpr int64_t kRowSplitMaxWeightBytes = 8 << 20;
// With at least this many rows in a step (lstm, rnn), the step computes x · W itself; rnn not
// where both halves run well apart: H <= kFuseAboveH (its panels short) and I >= kFuseBelowI
// (a GEMM of its own pays). Measured on Zen 4 at B = 16/64 with the whole-k kernels: lstm fused
// 4-6% faster at (256,256), (128,128), (256,128), (64,256) (1 and 2 threads), 3-9% at (512,512),
// (240,1024), (1024,1024), (8,64); rnn (256,256) fused 9% slower.
constexpr int64_t kFuseRows = 16;
constexpr int64_t kFuseAboveH = 256;
constexpr int64_t kFuseBelowI = 64;

int threads_for(int threads, int64_t work, int64_t min_per_thread) {
  if (threads > 1 && run_alone(work)) return 1;  // other processes hold the CPUs (contention.hpp)
  const int64_t useful = std::max<int64_t>(1, work / min_per_thread);
  return static_cast<int>(std::min<int64_t>(threads, useful));
}

size_t sz(int64_t n) { return static_cast<size_t>(n); }

bool gru_two_phase(const PackedLayer& layer) {
  return layer.cell == CellType::gru && !layer.linear_before_reset;
}

// Shape of the recurrent panels (the z, r part for gru without linear_before_reset), and of
// the n part's (gru without linear_before_reset). bf16 when the model was loaded so.
PanelShape rec_shape(const RecurrentKernels& k, const PackedLayer& l) {
  return k.shape(gru_two_phase(l) ? 2 : l.G, l.H, l.H, l.recurrent_bf16);
}
PanelShape n_shape(const RecurrentKernels& k, const PackedLayer& l) {
  return k.shape(1, l.H, l.H, l.recurrent_bf16);
}

// [begin, end) of `n` items for member i of a group of `size`, as even as possible.
void split(int64_t n, int i, int size, int64_t& begin, int64_t& end) {
  const int64_t per = n / size, extra = n % size;
  begin = i * per + std::min<int64_t>(i, extra);
  end = begin + per + (i < extra ? 1 : 0);
}

// gx (M, G*H) = x (M, I) · W + bias, over panels [p0, p1), rows in blocks that stay in L2.
void project(const RecurrentKernels& k, const PackedLayer& l, const PackedDirection& w, int64_t M,
             const float* const* x, float* gx, int64_t p0, int64_t p1) {
  const PanelShape ws = k.shape(l.G, l.H, l.I);
  const int64_t gw = l.gate_width();
  for (int64_t m0 = 0; m0 < M; m0 += kGemmRowBlock) {
    const int64_t rows = std::min(kGemmRowBlock, M - m0);
    k.gates(ws, w.Wf.data(), rows, {nullptr, 0, x + m0}, w.bias.data(), gx + m0 * gw, gw, p0, p1);
  }
}

void project_all(const RecurrentKernels& k, const PackedLayer& l, const PackedDirection& w,
                 int64_t M, const float* const* x, float* gx, int threads) {
  const int64_t panels = k.shape(l.G, l.H, l.I).panels();
  threads = threads_for(threads, M * l.I * l.gate_width(), kMinGemmFmasPerThread);
  const int64_t per_panel = M * l.I * l.G * k.shape(l.G, l.H, l.I).units();  // multiply-adds
  parallel_for(threads, panels, 1, per_panel, [&](int64_t p0, int64_t p1) {
    project(k, l, w, M, x, gx, p0, p1);
  });
}

// The StepArgs of one direction, without the per-step pointers.
StepArgs base_args(const RecurrentKernels& k, const PackedLayer& l, const PackedDirection& w,
                   int64_t B) {
  StepArgs a;
  a.shape = rec_shape(k, l);
  a.R = w.Rf.data();
  a.B = B;
  a.ldh = a.ldh_prev = a.ldh_next = a.ldc = a.ldz = l.H;
  a.bias_n = w.Rb.empty() ? nullptr : w.Rb.data() + 2 * l.H;
  a.relu = l.cell == CellType::rnn && w.f.kind == ActKind::relu;
  return a;
}

// One fused step over panels [p0, p1) (for gru without lbr: zr panels [p0, p1), n panels
// [q0, q1), with `between` called between the two phases). h_next/h/h_prev/c/gx already set.
template <class Between>
void fused_step(const RecurrentKernels& k, const PackedLayer& l, const PackedDirection& w,
                StepArgs a, int64_t p0, int64_t p1, int64_t q0, int64_t q1, Between between) {
  switch (l.cell) {
    case CellType::lstm: return k.lstm(a, p0, p1);
    case CellType::rnn: return k.rnn(a, p0, p1);
    case CellType::gru:
      if (l.linear_before_reset) return k.gru_lbr(a, p0, p1);
      k.gru_zr(a, p0, p1);
      between();
      a.shape = n_shape(k, l);
      a.R = w.Rnf.data();
      a.h = a.rh;
      a.ldh = a.ldz;
      return k.gru_n(a, q0, q1);
  }
}

}  // namespace

bool fast_path_applies(const kernels::KernelTable& k, const RecurrentLayer& layer,
                       const std::vector<PackedDirection>& dirs) {
  if (!k.fast || layer.clip > 0.0f) return false;
  for (const PackedDirection& d : dirs) {
    switch (layer.cell) {
      case CellType::lstm:
        if (layer.peepholes || layer.proj_size > 0 || layer.input_forget) return false;
        if (d.f.kind != ActKind::sigmoid || d.g.kind != ActKind::tanh || d.h.kind != ActKind::tanh) return false;
        break;
      case CellType::gru:
        if (d.f.kind != ActKind::sigmoid || d.g.kind != ActKind::tanh) return false;
        break;
      case CellType::rnn:
        if (d.f.kind != ActKind::tanh && d.f.kind != ActKind::relu) return false;
        break;
    }
  }
  return true;
}

void alloc_fast(const RecurrentKernels& k, const PackedLayer& l, PackedDirection& pd) {
  const PanelShape ws = k.shape(l.G, l.H, l.I);
  pd.Wf = kernels::AlignedFloats(ws.floats());
  kernels::zero_panel_padding(ws, pd.Wf.data());
  const PanelShape rs = rec_shape(k, l);
  pd.Rf = kernels::AlignedFloats(rs.floats());
  kernels::zero_panel_padding(rs, pd.Rf.data());
  if (gru_two_phase(l)) {
    const PanelShape ns = n_shape(k, l);
    pd.Rnf = kernels::AlignedFloats(ns.floats());
    kernels::zero_panel_padding(ns, pd.Rnf.data());
  }
}

void pack_fast_rows(const RecurrentKernels& k, const PackedLayer& l, FastMatrix which,
                    int64_t row0, int64_t n, const float* rows, PackedDirection& pd) {
  if (which == FastMatrix::W) {
    kernels::pack_panel_rows(k.shape(l.G, l.H, l.I), row0, n, rows, pd.Wf.data());
    return;
  }
  if (!gru_two_phase(l)) {
    kernels::pack_panel_rows(rec_shape(k, l), row0, n, rows, pd.Rf.data());
    return;
  }
  // gru without linear_before_reset: rows [0, 2H) are z, r; rows [2H, 3H) are n, packed apart.
  const int64_t zr_end = 2 * l.H;
  if (row0 < zr_end) {
    const int64_t m = std::min(n, zr_end - row0);
    kernels::pack_panel_rows(rec_shape(k, l), row0, m, rows, pd.Rf.data());
    row0 += m;
    rows += m * l.H;
    n -= m;
  }
  if (n > 0) kernels::pack_panel_rows(n_shape(k, l), row0 - zr_end, n, rows, pd.Rnf.data());
}

void pack_fast_biases(const PackedLayer& l, const DirectionWeights& w, PackedDirection& pd) {
  // Biases that are simply added: Wb + Rb, except Rb_n under linear_before_reset.
  const int64_t G = l.G, H = l.H;
  pd.bias.assign(sz(G * H), 0.0f);
  const bool keep_rbn = l.cell == CellType::gru && l.linear_before_reset;
  for (int64_t j = 0; j < G * H; ++j) {
    pd.bias[sz(j)] = w.Wb.data[sz(j)] + (keep_rbn && j >= 2 * H ? 0.0f : w.Rb.data[sz(j)]);
  }
  pd.Rb = w.Rb.data;
}

void run_fast_layer(const Model::Impl& m, const PackedLayer& l, const FastLayerIO& io,
                    int threads) {
  const RecurrentKernels& k = *m.k->fast;
  const int64_t T = io.T, B = io.B, H = l.H, gw = l.gate_width();
  const int64_t width = l.width();
  const int dirs = l.dirs;
  const auto row = [&](int64_t t, int64_t b) { return io.batch_first ? b * T + t : t * B + b; };

  // Per direction: h double buffer, c, gru scratch.
  std::vector<float> hbuf(sz(dirs * 2 * B * H), 0.0f);  // (D, 2, B, H)
  std::vector<float> cbuf(sz(dirs * B * H), 0.0f);      // (D, B, H)
  std::vector<float> zbuf, rhbuf;                        // (D, B, H) each
  if (gru_two_phase(l)) {
    zbuf.assign(sz(dirs * B * H), 0.0f);
    rhbuf.assign(sz(dirs * B * H), 0.0f);
  }
  const int64_t steps = io.steps;
  const PanelShape rs = rec_shape(k, l);
  const PanelShape ns = n_shape(k, l);  // gru without lbr: the n phase
  const bool two_phase = gru_two_phase(l);

  // Threads. At small B they split the units of a step (each keeps its slice of the weights in
  // its own cache; a barrier per step). With many rows, one direction and weights of at most
  // kRowSplitMaxWeightBytes they split the rows instead: each thread runs the whole sequence for
  // its rows over all the weights, with no barrier and no state shared between the threads.
  // Never more threads per direction than it has panels, or than the work per step pays for.
  const int64_t most = std::max(rs.panels(), two_phase ? ns.panels() : int64_t{1});
  const int per_dir = threads_for(threads, l.gate_width() * H * B, kMinStepFmasPerThread);
  const int64_t weight_bytes = l.gate_width() * (l.I + H) * static_cast<int64_t>(sizeof(float));
  const bool by_rows = dirs == 1 && per_dir >= 2 && B >= 2 * kMinRowsPerThread &&
                       weight_bytes <= kRowSplitMaxWeightBytes;
  const int team = by_rows ? static_cast<int>(std::min<int64_t>(per_dir, B / kMinRowsPerThread))
                           : static_cast<int>(std::min<int64_t>(
                                 {static_cast<int64_t>(threads), dirs * static_cast<int64_t>(per_dir), dirs * most}));
  const int groups = by_rows ? team : 1;  // groups of rows, each run as a batch of its own
  const auto group_rows = [&](int g, int64_t& b0, int64_t& b1) { split(B, g, groups, b0, b1); };
  const int64_t widest = (B + groups - 1) / groups;
  // The input projection. With many rows (lstm, rnn) each step computes x · W itself, on the
  // accumulators of its recurrent product: one pass over W's and R's panels per step, no
  // pre-activations written and read back. With few rows it is hoisted out of the steps, a chunk
  // of them at a time (about kChunkRows rows, so each W panel serves many rows), just before
  // them. Both give the same bits (kernels/recurrent.hpp).
  const bool fused = widest >= kFuseRows &&
                     (l.cell == CellType::lstm ||
                      (l.cell == CellType::rnn && (H > kFuseAboveH || l.I < kFuseBelowI)));
  const int64_t chunk = fused ? 1 : std::max<int64_t>(1, kChunkRows / widest);  // steps per chunk
  // Weights every step streams (all directions) beyond 3/4 of the last-level cache come from
  // memory: each panel's next is prefetched while its row blocks run (StepArgs::prefetch_next).
  // A/B on Zen 5 (L3 32 MiB, read from sysfs), best of 4-6: lstm (1024,1024) (32 MiB) B = 64 1
  // thread -5..-10%, B = 16 2 threads -7%, (1536,1536) (72 MiB) B = 16 2 threads -9..-12%.
  // Prefetching at every size: +3..5% at (256,256), (240,1024) (20 MiB), gru (512,512).
  const int64_t rec_bytes = l.recurrent_bf16 ? 2 : 4;
  const int64_t step_bytes =
      dirs * l.gate_width() * ((fused ? l.I * 4 : 0) + H * rec_bytes);
  const bool prefetch_next = step_bytes > kernels::l3_bytes() / 4 * 3;
  const int64_t chunks = fused ? 0 : (steps + chunk - 1) / chunk;

  // The projection scratch (D, B, chunk, G*H): group g of direction d at (d*B + b0) * chunk
  // rows. Kept per calling thread and reused by the next run() on it (no page faults on every
  // call).
  thread_local std::vector<float> gx_buffer;
  if (!fused && gx_buffer.size() < sz(dirs * chunk * B * gw)) {
    gx_buffer.clear();
    gx_buffer.shrink_to_fit();
    gx_buffer.resize(sz(dirs * chunk * B * gw));
  }
  float* const gx = gx_buffer.data();  // (not the thread_local itself: the workers use it too)
  // Hoisted: per direction and group, the rows that take each step, in step order: their inputs
  // (x_rows, gathered by the GEMM; group g of direction d from d * most_rows + steps * b0),
  // where each chunk's rows begin (chunk_first), and each step's gx row pointers (gx_rows, null
  // for a row past its length). Fused: each step's inputs (x_steps, (D, steps, B); a row past its
  // length reads zeros) and gx_rows only marks the rows that take the step (non-null).
  const int64_t most_rows = fused ? 0 : std::max<int64_t>(steps * B, 1);
  const int64_t step_rows = std::max<int64_t>(steps, 1) * B;
  std::vector<const float*> x_rows(sz(dirs * most_rows), nullptr);                 // (D, steps*B)
  std::vector<int64_t> chunk_first(sz(dirs * groups * (chunks + 1)), 0);          // (D, groups, chunks + 1)
  std::vector<const float*> gx_rows(sz(dirs * step_rows), nullptr);               // (D, steps, B)
  std::vector<const float*> x_steps(fused ? sz(dirs * step_rows) : 0);            // (D, steps, B)
  const std::vector<float> zeros(fused ? sz(l.I) : 0, 0.0f);
  for (int d = 0; d < dirs; ++d) {
    const int64_t srow = l.state_row + d;
    const bool rev = l.reversed(d);
    for (int64_t b = 0; b < B; ++b) {
      float* h = hbuf.data() + (d * 2 * B + b) * H;
      if (io.h0) std::memcpy(h, io.h0 + (srow * B + b) * io.h_width, sizeof(float) * sz(H));
      if (l.cell == CellType::lstm && io.c0) {
        std::memcpy(cbuf.data() + (d * B + b) * H, io.c0 + (srow * B + b) * io.c_width, sizeof(float) * sz(H));
      }
    }
    for (int64_t s = 0; fused && s < steps; ++s) {
      for (int64_t b = 0; b < B; ++b) {
        const int64_t L = io.len[b];
        const float* x = s < L ? io.x + row(rev ? L - 1 - s : s, b) * io.x_width : nullptr;
        gx_rows[sz((d * steps + s) * B + b)] = x;
        x_steps[sz((d * steps + s) * B + b)] = x ? x : zeros.data();
      }
    }
    for (int g = 0; g < groups && !fused; ++g) {
      int64_t b0, b1;
      group_rows(g, b0, b1);
      const float** x_g = x_rows.data() + d * most_rows + steps * b0;
      int64_t* first_g = chunk_first.data() + (d * groups + g) * (chunks + 1);
      const float* gx_g = gx + (d * B + b0) * chunk * gw;
      int64_t n = 0;  // active rows of the group so far
      for (int64_t s = 0; s < steps; ++s) {
        if (s % chunk == 0) first_g[s / chunk] = n;
        const int64_t m0 = first_g[s / chunk];
        for (int64_t b = b0; b < b1; ++b) {
          const int64_t L = io.len[b];
          if (s >= L) continue;
          const int64_t t = rev ? L - 1 - s : s;
          x_g[n] = io.x + row(t, b) * io.x_width;
          gx_rows[sz((d * steps + s) * B + b)] = gx_g + (n - m0) * gw;
          ++n;
        }
      }
      first_g[chunks] = n;
    }
  }

  // Direction d's time loop over the rows of group g, for member i of a team of `size` threads
  // splitting its units. Each member projects the chunk for its own units: W's panels hold the
  // units of R's panels, panel for panel (k.shape gives G=3 and G=2 the same sub-blocks, so
  // this holds for gru's two-phase z, r panels too), so that is W panels [p0, p1). The gru n
  // phase, whose units differ, reads the others' only after the barrier between its two phases.
  // A team of one projects on up to project_threads threads.
  const auto loop = [&](int d, int g, int i, int size, SpinBarrier& barrier, int project_threads) {
    int64_t b0, b1;
    group_rows(g, b0, b1);
    const PackedDirection& w = l.dir[sz(d)];
    int64_t p0, p1, q0, q1;
    split(rs.panels(), i, size, p0, p1);
    split(ns.panels(), i, size, q0, q1);
    // Units whose output this member writes: those of its last phase.
    const int64_t pu = two_phase ? ns.units() : rs.units();
    const int64_t u0 = std::min(H, (two_phase ? q0 : p0) * pu);
    const int64_t u1 = std::min(H, (two_phase ? q1 : p1) * pu);
    const bool rev = l.reversed(d);
    StepArgs a = base_args(k, l, w, b1 - b0);
    a.prefetch_next = prefetch_next;
    if (fused) {
      a.W = w.Wf.data();
      a.w_shape = k.shape(l.G, H, l.I);
      a.bias = w.bias.data();
    }
    float* h2 = hbuf.data() + d * 2 * B * H + b0 * H;  // rows b0.. of both buffers
    a.c = cbuf.data() + (d * B + b0) * H;
    if (two_phase) {
      a.z = zbuf.data() + (d * B + b0) * H;
      a.rh = rhbuf.data() + (d * B + b0) * H;
    }
    const float* const* x_g = fused ? nullptr : x_rows.data() + d * most_rows + steps * b0;
    const int64_t* first_g = chunk_first.data() + (d * groups + g) * (chunks + 1);
    float* gx_g = fused ? nullptr : gx + (d * B + b0) * chunk * gw;
    for (int64_t s = 0; s < steps; ++s) {
      if (!fused && s % chunk == 0) {
        const int64_t m0 = first_g[s / chunk], m1 = first_g[s / chunk + 1];
        if (size == 1) {
          project_all(k, l, w, m1 - m0, x_g + m0, gx_g, project_threads);
        } else {
          project(k, l, w, m1 - m0, x_g + m0, gx_g, p0, p1);
        }
      }
      a.gx = gx_rows.data() + (d * steps + s) * B + b0;
      if (fused) a.x = x_steps.data() + (d * steps + s) * B + b0;
      a.h = a.h_prev = h2 + (s & 1) * B * H;
      a.h_next = h2 + ((s + 1) & 1) * B * H;
      a.backward = (s & 1) != 0;  // zig-zag over the panels: the last ones read are still cached
      fused_step(k, l, w, a, p0, p1, q0, q1, [&] { barrier.wait(); });
      if (u1 > u0) {
        for (int64_t b = b0; b < b1; ++b) {
          const int64_t L = io.len[b];
          if (s >= L) continue;
          const int64_t t = rev ? L - 1 - s : s;
          std::memcpy(io.y + row(t, b) * width + d * H + u0, a.h_next + (b - b0) * H + u0,
                      sizeof(float) * sz(u1 - u0));
        }
      }
      barrier.wait();
    }
  };

  if (team <= 1) {
    SpinBarrier none(1);
    for (int d = 0; d < dirs; ++d) loop(d, 0, 0, 1, none, threads);
  } else {
    // Bidirectional with >= 2 threads: forward on [0, first), reverse on [first, team).
    const bool together = dirs == 2;
    const int first = together ? team / 2 : team;
    SpinBarrier forward(first), backward(team - first);
    // Evidence for contention.hpp: a member the scheduler started late, the join's wait.
    const int64_t forked = now_ns();
    int64_t caller_done = 0;
#pragma omp parallel num_threads(team)
    {
      DenormalsFlushed ftz;
      note_wait(now_ns() - forked);
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
      } else if (by_rows) {
        loop(0, t, 0, 1, alone, 1);
      } else if (!together) {
        loop(0, 0, t, team, forward, 1);
      } else if (t < first) {
        loop(0, 0, t, first, forward, 1);
      } else {
        loop(1, 0, t - first, team - first, backward, 1);
      }
      if (t == 0) caller_done = now_ns();
    }
    note_wait(now_ns() - caller_done);
  }

  // Final states.
  for (int d = 0; d < dirs; ++d) {
    const int64_t srow = l.state_row + d;
    const float* h = hbuf.data() + (d * 2 + (steps & 1)) * B * H;
    for (int64_t b = 0; b < B; ++b) {
      std::memcpy(io.h_n + (srow * B + b) * io.h_width, h + b * H, sizeof(float) * sz(H));
      if (l.cell == CellType::lstm && io.c_n) {
        std::memcpy(io.c_n + (srow * B + b) * io.c_width, cbuf.data() + (d * B + b) * H, sizeof(float) * sz(H));
      }
    }
  }
}

void step_fast_layer(const Model::Impl& m, const PackedLayer& l, int64_t B, const float* x,
                     int64_t ld_x, float* gx, const float* h, int64_t ldh, float* c, int64_t ldc,
                     StepScratch& s, int threads) {
  const RecurrentKernels& k = *m.k->fast;
  const PackedDirection& w = l.dir[0];
  const int64_t gw = l.gate_width();
  for (int64_t b = 0; b < B; ++b) s.x_rows[sz(b)] = x + b * ld_x;
  project_all(k, l, w, B, s.x_rows.data(), gx, threads);
  for (int64_t b = 0; b < B; ++b) s.gx_rows[sz(b)] = gx + b * gw;

  StepArgs a = base_args(k, l, w, B);
  a.gx = s.gx_rows.data();
  a.h = a.h_prev = h;
  a.ldh = a.ldh_prev = ldh;
  a.h_next = s.h_next.data();
  a.ldh_next = l.H;
  a.c = c;
  a.ldc = ldc;
  a.z = s.hc.data();  // (B, H) each
  a.rh = s.rh.data();
  a.ldz = l.H;
  const PanelShape rs = rec_shape(k, l);
  threads = threads_for(threads, l.gate_width() * l.H * B, kMinStepFmasPerThread);
  if (!gru_two_phase(l)) {
    parallel_for(threads, rs.panels(), 1, rs.panel_floats() * B, [&](int64_t p0, int64_t p1) {
      fused_step(k, l, w, a, p0, p1, 0, 0, [] {});
    });
    return;
  }
  parallel_for(threads, rs.panels(), 1, rs.panel_floats() * B,
               [&](int64_t p0, int64_t p1) { k.gru_zr(a, p0, p1); });
  StepArgs n = a;
  n.shape = n_shape(k, l);
  n.R = w.Rnf.data();
  n.h = a.rh;
  n.ldh = a.ldz;
  parallel_for(threads, n.shape.panels(), 1, n.shape.panel_floats() * B,
               [&](int64_t q0, int64_t q1) { k.gru_n(n, q0, q1); });
}

}  // namespace recur
