// plan_panel_layer (runtime/plan.hpp) on its own: the team, the split (units or rows), the
// input-projection route, chunking and prefetch it chooses for a layer, batch and thread count.
// Whatever it chooses, the bits are the same (tests/runtime/test_threads.cpp, test_step_run.cpp);
// these cases pin the choices that performance depends on.
#include <doctest/doctest.h>

#include "kernels/recurrent.hpp"
#include "runtime/plan.hpp"

using namespace recur;

namespace {

// A layer on gate panels with the shapes the avx512 table packs (V = 16); no weights needed.
PackedLayer panel_layer(CellType cell, int64_t I, int64_t H, Direction direction = Direction::forward) {
  const kernels::RecurrentKernels& k = kernels::recurrent_f32_avx512();
  PackedLayer l;
  l.cell = cell;
  l.direction = direction;
  l.dirs = direction_count(direction);
  l.I = I;
  l.H = l.Hout = H;
  l.G = gate_count(cell);
  l.gate_panels = true;
  for (int d = 0; d < l.dirs; ++d) {
    PanelWeights w;
    w.w_shape = k.shape(l.G, H, I);
    w.r_shape = k.shape(l.gru_two_phase() ? 2 : l.G, H, H);
    w.n_shape = k.shape(1, H, H);
    PackedDirection pd;
    pd.weights = std::move(w);
    l.dir.push_back(std::move(pd));
  }
  return l;
}

const CacheSizes kCache{48 * 1024 / 4 * 3, 32 << 20};

}  // namespace

TEST_CASE("plan: one thread runs without a team, hoisting the projection at small batch") {
  const PanelLayerPlan p = plan_panel_layer(panel_layer(CellType::gru, 64, 64), 4, 40, 1, kCache);
  CHECK(p.team == 1);
  CHECK_FALSE(p.by_rows);
  CHECK(p.groups == 1);
  CHECK_FALSE(p.fused);  // gru never computes x · W inside the step
  CHECK(p.chunk == 16);  // 64 rows per chunk at B = 4
  CHECK(p.chunks == 3);  // 40 steps
  CHECK_FALSE(p.prefetch_next);
}

TEST_CASE("plan: a step too small for a second thread keeps one") {
  // gru (64, 64): 12K multiply-adds per row and step; a thread must have 64K.
  CHECK(plan_panel_layer(panel_layer(CellType::gru, 64, 64), 8, 10, 2, kCache).team == 1);
  CHECK(plan_panel_layer(panel_layer(CellType::gru, 64, 64), 16, 10, 2, kCache).team == 2);
}

TEST_CASE("plan: many rows and small weights split the rows, large weights the units") {
  const PanelLayerPlan small = plan_panel_layer(panel_layer(CellType::lstm, 256, 256), 64, 10, 2, kCache);
  CHECK(small.by_rows);
  CHECK(small.team == 2);
  CHECK(small.groups == 2);
  CHECK(small.fused);  // 32 rows per group
  CHECK(small.chunks == 0);

  const PanelLayerPlan large = plan_panel_layer(panel_layer(CellType::lstm, 1024, 1024), 64, 10, 2, kCache);
  CHECK_FALSE(large.by_rows);
  CHECK(large.team == 2);
  CHECK(large.groups == 1);
  CHECK(large.fused);
  // 32 MiB of weights per step, beyond 3/4 of a 32 MiB L3 but not of a 1 GiB one.
  CHECK(large.prefetch_next);
  CHECK_FALSE(plan_panel_layer(panel_layer(CellType::lstm, 1024, 1024), 64, 10, 2, CacheSizes{kCache.l1_budget, int64_t{1} << 30}).prefetch_next);

  // Rows never split in a bidirectional layer: its directions share the threads.
  const PanelLayerPlan bi = plan_panel_layer(panel_layer(CellType::lstm, 64, 64, Direction::bidirectional), 64, 10, 4, kCache);
  CHECK_FALSE(bi.by_rows);
  CHECK(bi.team == 4);
}

TEST_CASE("plan: a team is never larger than the panels it splits") {
  // rnn H = 64: one panel of 64 units (S = 4, V = 16) per direction.
  const PanelLayerPlan p = plan_panel_layer(panel_layer(CellType::rnn, 64, 64, Direction::bidirectional), 1, 10, 8, kCache);
  CHECK(p.team == 2);
}

TEST_CASE("plan: rnn computes x · W in the step only where it pays") {
  CHECK(plan_panel_layer(panel_layer(CellType::rnn, 32, 128), 32, 10, 1, kCache).fused);     // narrow input
  CHECK_FALSE(plan_panel_layer(panel_layer(CellType::rnn, 128, 128), 32, 10, 1, kCache).fused);  // both short
  CHECK(plan_panel_layer(panel_layer(CellType::rnn, 128, 512), 32, 10, 1, kCache).fused);    // long panels
  CHECK_FALSE(plan_panel_layer(panel_layer(CellType::lstm, 128, 128), 8, 10, 1, kCache).fused);  // few rows
}

TEST_CASE("plan: B = 1 sweeps single panels where a pair would not fit the L1 budget") {
  const kernels::RecurrentKernels& k = kernels::recurrent_f32_avx512();
  const kernels::PanelShape lstm128 = k.shape(4, 128, 128);  // 32 KiB panels, 8 of them
  CHECK(single_panel_sweep(lstm128, 8, kCache));
  CHECK_FALSE(single_panel_sweep(lstm128, 8, CacheSizes{96 * 1024, kCache.l3}));  // a pair fits
  CHECK_FALSE(single_panel_sweep(lstm128, 9, kCache));  // more than 256 KiB: pairs
  CHECK_FALSE(single_panel_sweep(k.shape(4, 128, 128, true), 8, kCache));  // bf16 stays in pairs
}
