// The plan of a run: how each gate-panel layer runs for a given batch, sequence and thread
// count (team, split, input-projection route, chunking, prefetch, sweep unit), decided once
// before the time loop (runtime/panel_layer.cpp follows it) and testable on its own. No choice
// here changes a value: every route computes the same bits (runtime/README.md).
#pragma once

#include <cstdint>

#include "runtime/cache_sizes.hpp"
#include "runtime/model_impl.hpp"

namespace recur {

struct PanelLayerPlan {
  int team = 1;            // threads in the layer's parallel region (1: none)
  bool by_rows = false;    // the threads split the rows (each runs its own), else the units
  int groups = 1;          // groups of rows run as batches of their own (by_rows: team)
  bool fused = false;      // each step computes x · W itself, else hoisted a chunk at a time
  int64_t chunk = 1;       // hoisted: steps per input-projection chunk (about kChunkRows rows)
  int64_t chunks = 0;      // hoisted: chunks in the sequence
  bool prefetch_next = false;  // StepArgs::prefetch_next
  int threads = 1;         // the caller's thread count (a team of one projects on these)
};

// The plan of `layer` (on gate panels) for B rows, `steps` loop steps and up to `threads`.
PanelLayerPlan plan_panel_layer(const PackedLayer& layer, int64_t B, int64_t steps, int threads,
                                const CacheSizes& cache);

// Threads worth a step of `layer` for B rows (step(), and each direction of run()), and worth
// projecting M rows of its input: the thread count is an upper bound.
int step_threads(const PackedLayer& layer, int64_t B, int threads);
int projection_threads(const PackedLayer& layer, int64_t M, int threads);

// B = 1: whether one thread sweeps its `panels` panels of `shape` one at a time rather than in
// pairs (StepArgs::single_panels).
bool single_panel_sweep(const kernels::PanelShape& shape, int64_t panels, const CacheSizes& cache);

// The input-projection rows of one gates GEMM pass (the rows of a block stay in L2).
inline constexpr int64_t kGemmRowBlock = 192;

}  // namespace recur
