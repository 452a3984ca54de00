// plan_panel_layer and the thresholds behind it. Each threshold states the mechanism; the
// measurements that set them are in BENCHMARKS.md and the commit history.
#include "runtime/plan.hpp"

#include <algorithm>

namespace recur {

namespace {

// Input-projection rows per chunk of steps (at least one step).
constexpr int64_t kChunkRows = 64;
// Below these amounts of work another thread costs more (wake-up, a barrier per step) than it
// saves: recurrent multiply-adds per step, input-projection multiply-adds.
constexpr int64_t kMinStepFmasPerThread = 64 << 10;
constexpr int64_t kMinGemmFmasPerThread = 1 << 21;
// With at least this many rows per thread the threads split the rows rather than the units, if
// the weights are small enough for every thread to stream all of them from the shared cache
// each step; beyond, splitting the units halves that traffic.
constexpr int64_t kMinRowsPerThread = 16;
constexpr int64_t kRowSplitMaxWeightBytes = 8 << 20;
// With at least this many rows in a step (lstm, rnn) the step computes x · W itself, on the
// accumulators of its recurrent product; rnn not where both halves run well apart: short panels
// (H <= kFuseAboveH) and an input wide enough for a GEMM of its own (I >= kFuseBelowI).
constexpr int64_t kFuseRows = 16;
constexpr int64_t kFuseAboveH = 256;
constexpr int64_t kFuseBelowI = 64;
// A B = 1 sweep takes single panels when a thread's panels are few enough to stay near L1 and a
// pair would not fit in the L1 budget: the zig-zag finds in cache only what the last panels
// read left there, so the smaller the unit of the sweep, the more of it hits.
constexpr int64_t kSinglePanelsUpTo = 256 * 1024;  // bytes of a thread's panels

int threads_for(int threads, int64_t work, int64_t min_per_thread) {
  const int64_t useful = std::max<int64_t>(1, work / min_per_thread);
  return static_cast<int>(std::min<int64_t>(threads, useful));
}

}  // namespace

int step_threads(const PackedLayer& l, int64_t B, int threads) {
  return threads_for(threads, l.gate_width() * l.H * B, kMinStepFmasPerThread);
}

int projection_threads(const PackedLayer& l, int64_t M, int threads) {
  return threads_for(threads, M * l.I * l.gate_width(), kMinGemmFmasPerThread);
}

bool single_panel_sweep(const kernels::PanelShape& shape, int64_t panels, const CacheSizes& cache) {
  if (shape.bf16) return false;  // bf16 pairs are half the size and stay pairs
  const int64_t panel_bytes = shape.panel_floats() * static_cast<int64_t>(sizeof(float));
  return panels * panel_bytes <= kSinglePanelsUpTo && 2 * panel_bytes > cache.l1_budget;
}

PanelLayerPlan plan_panel_layer(const PackedLayer& l, int64_t B, int64_t steps, int threads,
                                const CacheSizes& cache) {
  const PanelWeights& w = l.dir[0].panels();
  const int64_t H = l.H, dirs = l.dirs;
  PanelLayerPlan p;
  p.threads = threads;
  // Threads. At small B they split the units of a step (each keeps its slice of the weights in
  // its own cache; a barrier per step). With many rows, one direction and small weights they
  // split the rows: each runs the whole sequence for its rows, with no barrier and no state
  // shared. Never more threads per direction than it has panels, or than a step pays for.
  const int64_t most = std::max(w.r_shape.panels(), l.gru_two_phase() ? w.n_shape.panels() : int64_t{1});
  const int per_dir = step_threads(l, B, threads);
  const int64_t weight_bytes = l.gate_width() * (l.I + H) * static_cast<int64_t>(sizeof(float));
  p.by_rows = dirs == 1 && per_dir >= 2 && B >= 2 * kMinRowsPerThread && weight_bytes <= kRowSplitMaxWeightBytes;
  p.team = p.by_rows ? static_cast<int>(std::min<int64_t>(per_dir, B / kMinRowsPerThread))
                     : static_cast<int>(std::min<int64_t>({threads, dirs * per_dir, dirs * most}));
  p.groups = p.by_rows ? p.team : 1;
  const int64_t widest = (B + p.groups - 1) / p.groups;
  // The input projection: inside the step with many rows (lstm, rnn): one pass over W's and R's
  // panels, no pre-activations written and read back. With few rows, hoisted a chunk of steps
  // at a time just before them, so each W panel serves many rows.
  p.fused = widest >= kFuseRows &&
            (l.cell == CellType::lstm || (l.cell == CellType::rnn && (H > kFuseAboveH || l.I < kFuseBelowI)));
  p.chunk = p.fused ? 1 : std::max<int64_t>(1, kChunkRows / widest);
  p.chunks = p.fused ? 0 : (steps + p.chunk - 1) / p.chunk;
  // Weights every step streams (all directions) beyond 3/4 of the last-level cache come from
  // memory: each panel's next is prefetched while its row blocks run.
  const int64_t rec_bytes = l.recurrent_bf16 ? 2 : 4;
  const int64_t step_bytes = dirs * l.gate_width() * ((p.fused ? l.I * 4 : 0) + H * rec_bytes);
  p.prefetch_next = step_bytes > cache.l3 / 4 * 3;
  return p;
}

}  // namespace recur
