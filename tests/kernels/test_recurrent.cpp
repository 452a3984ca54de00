// The fast recurrent kernels of every ISA this CPU has (kernels/recurrent.hpp) against their
// _ref twins: the packed-panel input GEMM against gemm_f32_ref, and each fused step against
// gemm_f32_ref + the *_cell_f32_ref kernels, on shapes with primes and tails.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "kernels/kernels.hpp"
#include "kernels/recurrent.hpp"
#include "tests/kernels/recurrent_helpers.hpp"

using namespace recur::kernels;
using namespace recur::kernels::testing;

namespace {

const int64_t kHidden[] = {1, 17, 34, 64};
const int64_t kBatch[] = {1, 7};

}  // namespace

TEST_CASE("kernels: gates GEMM over packed panels equals gemm_f32_ref") {
  std::mt19937 rng(7);
  for (const IsaCase& isa : isas()) {
    if (!isa.available) {
      MESSAGE("skipping " << isa.name << ": not supported by this CPU");
      continue;
    }
    for (int64_t G : {1, 3, 4}) {
      for (int64_t H : kHidden) {
        for (int64_t M : {1, 5, 13, 61}) {
          // K = 400 with many rows: several row blocks and a tail block over a long panel.
          const int64_t K = M == 61 ? 400 : 11;
          CAPTURE(isa.name); CAPTURE(G); CAPTURE(H); CAPTURE(M);
          const auto W = random_vec(rng, G * H * K, 0.5f);
          const auto A = random_vec(rng, M * K, 1.0f);
          const auto bias = random_vec(rng, G * H, 0.5f);
          const auto want = ref_product(A, M, K, W, G * H, bias.data());
          const AlignedFloats panels = pack(*isa.k, G, H, K, W.data());
          const PanelShape sh = isa.k->shape(G, H, K);
          std::vector<float> got(static_cast<size_t>(M * G * H), -1.0f);
          // Two halves of the panels, as two threads would split them; the second half reads
          // A through row pointers into a copy stored upside down (gathered rows).
          const int64_t half = sh.panels() / 2;
          isa.k->gates(sh, panels.data(), M, {A.data(), K, nullptr}, bias.data(), got.data(), G * H, 0, half);
          std::vector<float> flipped(A.size());
          std::vector<const float*> ptr(static_cast<size_t>(M));
          for (int64_t m = 0; m < M; ++m) {
            std::copy_n(A.data() + m * K, K, flipped.data() + (M - 1 - m) * K);
            ptr[static_cast<size_t>(m)] = flipped.data() + (M - 1 - m) * K;
          }
          isa.k->gates(sh, panels.data(), M, {nullptr, 0, ptr.data()}, bias.data(), got.data(), G * H, half, sh.panels());
          check_close(got, want, std::string(isa.name) + " gates");
        }
      }
    }
  }
}


TEST_CASE("kernels: fused lstm step equals gemm_f32_ref + lstm_cell_f32_ref") {
  std::mt19937 rng(11);
  // (H, B) pairs: the small shapes, plus H = 401 with 13 rows (two row blocks and a tail).
  std::vector<std::pair<int64_t, int64_t>> shapes;
  for (int64_t H : kHidden) {
    for (int64_t B : kBatch) shapes.push_back({H, B});
  }
  shapes.push_back({401, 13});
  for (const IsaCase& isa : isas()) {
    if (!isa.available) { MESSAGE("skipping " << isa.name << ": not supported by this CPU"); continue; }
    for (const auto& [H, B] : shapes) {
      {
        CAPTURE(isa.name); CAPTURE(H); CAPTURE(B);
        StepCase t(rng, B, H, 4);
        const auto R = random_vec(rng, 4 * H * H, 1.0f / std::sqrt(float(H)));
        const auto c0 = random_vec(rng, B * H, 1.0f);
        // Reference.
        const auto rec = ref_product(t.h, B, H, R, 4 * H, nullptr);
        std::vector<float> c_want = c0, h_want = t.h;
        LstmCellParams p;
        p.f = {ActKind::sigmoid}; p.g = {ActKind::tanh}; p.h = {ActKind::tanh}; p.H = H;
        for (int64_t r = 0; r < B; ++r) {
          if (t.active(r)) lstm_cell_f32_ref(p, H, t.gx_rows[r], rec.data() + r * 4 * H, c_want.data() + r * H, h_want.data() + r * H);
        }
        // Fused.
        const AlignedFloats panels = pack(*isa.k, 4, H, H, R.data());
        std::vector<float> c_got = c0, h_got(static_cast<size_t>(B * H), -7.0f);
        StepArgs a;
        a.shape = isa.k->shape(4, H, H); a.R = panels.data(); a.B = B; a.gx = t.gx_rows.data();
        a.h = t.h.data(); a.ldh = H; a.h_prev = t.h.data(); a.ldh_prev = H;
        a.h_next = h_got.data(); a.ldh_next = H; a.c = c_got.data(); a.ldc = H;
        run_halves(isa.k->lstm, a);
        check_close(c_got, c_want, std::string(isa.name) + " lstm c");
        check_close(h_got, h_want, std::string(isa.name) + " lstm h");
      }
    }
  }
}

TEST_CASE("kernels: fused gru steps equal gemm_f32_ref + gru_*_f32_ref") {
  std::mt19937 rng(13);
  for (const IsaCase& isa : isas()) {
    if (!isa.available) { MESSAGE("skipping " << isa.name << ": not supported by this CPU"); continue; }
    for (bool lbr : {true, false}) {
      for (int64_t H : kHidden) {
        for (int64_t B : kBatch) {
          CAPTURE(isa.name); CAPTURE(lbr); CAPTURE(H); CAPTURE(B);
          StepCase t(rng, B, H, 3);
          const auto R = random_vec(rng, 3 * H * H, 1.0f / std::sqrt(float(H)));
          const auto Rb = random_vec(rng, 3 * H, 0.5f);
          GruCellParams p;
          p.f = {ActKind::sigmoid}; p.g = {ActKind::tanh}; p.H = H; p.linear_before_reset = lbr;
          // Reference: rec = R h + Rb (n gate: R_n (r ⊙ h) + Rb_n without lbr).
          std::vector<float> h_want = t.h;
          auto rec = ref_product(t.h, B, H, R, 3 * H, Rb.data());
          if (!lbr) {
            std::vector<float> rh(static_cast<size_t>(B * H), 0.0f);
            for (int64_t r = 0; r < B; ++r) {
              if (t.active(r)) gru_reset_f32_ref(p, H, t.gx_rows[r], rec.data() + r * 3 * H, t.h.data() + r * H, rh.data() + r * H);
            }
            const std::vector<float> Rn(R.begin() + 2 * H * H, R.end());
            const auto rec_n = ref_product(rh, B, H, Rn, H, Rb.data() + 2 * H);
            for (int64_t r = 0; r < B; ++r) {
              for (int64_t j = 0; j < H; ++j) rec[r * 3 * H + 2 * H + j] = rec_n[r * H + j];
            }
          }
          for (int64_t r = 0; r < B; ++r) {
            if (t.active(r)) gru_cell_f32_ref(p, H, t.gx_rows[r], rec.data() + r * 3 * H, t.h.data() + r * H, h_want.data() + r * H);
          }
          // Fused: the biases that are simply added go into gx.
          std::vector<float> gx = t.gx;
          std::vector<const float*> rows = t.gx_rows;
          for (int64_t r = 0; r < B; ++r) {
            for (int64_t j = 0; j < (lbr ? 2 * H : 3 * H); ++j) gx[r * 3 * H + j] += Rb[j];
            if (rows[r]) rows[r] = gx.data() + r * 3 * H;
          }
          std::vector<float> h_got(static_cast<size_t>(B * H), -7.0f);
          StepArgs a;
          a.B = B; a.gx = rows.data(); a.h = t.h.data(); a.ldh = H; a.h_prev = t.h.data(); a.ldh_prev = H;
          a.h_next = h_got.data(); a.ldh_next = H;
          if (lbr) {
            const AlignedFloats panels = pack(*isa.k, 3, H, H, R.data());
            a.shape = isa.k->shape(3, H, H); a.R = panels.data(); a.bias_n = Rb.data() + 2 * H;
            run_halves(isa.k->gru_lbr, a);
          } else {
            const AlignedFloats zr = pack(*isa.k, 2, H, H, R.data());
            const AlignedFloats n = pack(*isa.k, 1, H, H, R.data() + 2 * H * H);
            std::vector<float> z(static_cast<size_t>(B * H)), rh(static_cast<size_t>(B * H));
            a.z = z.data(); a.rh = rh.data(); a.ldz = H;
            a.shape = isa.k->shape(2, H, H); a.R = zr.data();
            run_halves(isa.k->gru_zr, a);
            a.shape = isa.k->shape(1, H, H); a.R = n.data(); a.h = rh.data(); a.ldh = H;
            run_halves(isa.k->gru_n, a);
          }
          check_close(h_got, h_want, std::string(isa.name) + " gru h");
        }
      }
    }
  }
}

TEST_CASE("kernels: fused rnn step equals gemm_f32_ref + rnn_cell_f32_ref") {
  std::mt19937 rng(17);
  for (const IsaCase& isa : isas()) {
    if (!isa.available) { MESSAGE("skipping " << isa.name << ": not supported by this CPU"); continue; }
    for (bool relu : {false, true}) {
      for (int64_t H : kHidden) {
        for (int64_t B : kBatch) {
          CAPTURE(isa.name); CAPTURE(relu); CAPTURE(H); CAPTURE(B);
          StepCase t(rng, B, H, 1);
          const auto R = random_vec(rng, H * H, 1.0f / std::sqrt(float(H)));
          const auto rec = ref_product(t.h, B, H, R, H, nullptr);
          std::vector<float> h_want = t.h;
          RnnCellParams p{{relu ? ActKind::relu : ActKind::tanh}, 0.0f};
          for (int64_t r = 0; r < B; ++r) {
            if (t.active(r)) rnn_cell_f32_ref(p, H, t.gx_rows[r], rec.data() + r * H, h_want.data() + r * H);
          }
          const AlignedFloats panels = pack(*isa.k, 1, H, H, R.data());
          std::vector<float> h_got(static_cast<size_t>(B * H), -7.0f);
          StepArgs a;
          a.shape = isa.k->shape(1, H, H); a.R = panels.data(); a.B = B; a.gx = t.gx_rows.data();
          a.h = t.h.data(); a.ldh = H; a.h_prev = t.h.data(); a.ldh_prev = H;
          a.h_next = h_got.data(); a.ldh_next = H; a.relu = relu;
          run_halves(isa.k->rnn, a);
          check_close(h_got, h_want, std::string(isa.name) + " rnn h");
        }
      }
    }
  }
}

TEST_CASE("kernels: a row's result does not depend on the batch it is in (many rows == one row)") {
  std::mt19937 rng(23);
  for (const IsaCase& isa : isas()) {
    if (!isa.available) continue;
    const int64_t H = 401, B = 13;
    CAPTURE(isa.name);
    StepCase t(rng, B, H, 4);
    const auto R = random_vec(rng, 4 * H * H, 1.0f / std::sqrt(float(H)));
    const auto c0 = random_vec(rng, B * H, 1.0f);
    const AlignedFloats panels = pack(*isa.k, 4, H, H, R.data());
    StepArgs a;
    a.shape = isa.k->shape(4, H, H); a.R = panels.data(); a.ldh = a.ldh_prev = a.ldh_next = a.ldc = H;
    // All rows at once (row blocks of MR and a tail block).
    std::vector<float> c_all = c0, h_all(static_cast<size_t>(B * H));
    a.B = B; a.gx = t.gx_rows.data(); a.h = a.h_prev = t.h.data(); a.h_next = h_all.data(); a.c = c_all.data();
    isa.k->lstm(a, 0, a.shape.panels());
    // One row at a time (register-only path), sweeping the panels in pairs or, with
    // StepArgs::single_panels, one at a time (each half of the panels in one direction).
    const auto one_at_a_time = [&](bool single, std::vector<float>& h_out, std::vector<float>& c_out) {
      c_out = c0;
      h_out.assign(static_cast<size_t>(B * H), 0.0f);
      a.single_panels = single;
      for (int64_t r = 0; r < B; ++r) {
        if (!t.active(r)) {
          std::copy(t.h.begin() + r * H, t.h.begin() + (r + 1) * H, h_out.begin() + r * H);
          continue;
        }
        a.B = 1; a.gx = &t.gx_rows[r]; a.h = a.h_prev = t.h.data() + r * H;
        a.h_next = h_out.data() + r * H; a.c = c_out.data() + r * H;
        if (single) {
          run_halves(isa.k->lstm, a);
        } else {
          isa.k->lstm(a, 0, a.shape.panels());
        }
      }
    };
    std::vector<float> c_one, h_one, c_single, h_single;
    one_at_a_time(false, h_one, c_one);
    one_at_a_time(true, h_single, c_single);
    CHECK(std::memcmp(h_all.data(), h_one.data(), h_all.size() * 4) == 0);
    CHECK(std::memcmp(c_all.data(), c_one.data(), c_all.size() * 4) == 0);
    CHECK(std::memcmp(h_single.data(), h_one.data(), h_one.size() * 4) == 0);
    CHECK(std::memcmp(c_single.data(), c_one.data(), c_one.size() * 4) == 0);
  }
}

// The fused step (x · W + bias on the step's own accumulators) against the two-pass route
// (gates GEMM into gx, then the step from gx): the same bits, for lstm and rnn, one row (two
// panels at a time), a few rows, and many rows with long k (row blocks and a tail, the bias
// going in between the sums over x and those over h), with and without the next panels
// prefetched. Row 3 does not take the step: its input pointer reads zeros, and its state is kept.
TEST_CASE("kernels: fused input projection equals gates GEMM + step bit for bit") {
  std::mt19937 rng(29);
  struct Shape {
    int64_t I, H, B;
  };
  const Shape shapes[] = {{5, 17, 1}, {37, 64, 1}, {9, 34, 7}, {300, 401, 13}, {192, 401, 13}, {1600, 40, 20}};
  for (const IsaCase& isa : isas()) {
    if (!isa.available) continue;
    for (bool lstm : {true, false}) {
      for (const Shape& sh : shapes) {
        const int64_t I = sh.I, H = sh.H, B = sh.B, G = lstm ? 4 : 1;
        CAPTURE(isa.name); CAPTURE(lstm); CAPTURE(I); CAPTURE(H); CAPTURE(B);
        const auto W = random_vec(rng, G * H * I, 1.0f / std::sqrt(float(I)));
        const auto R = random_vec(rng, G * H * H, 1.0f / std::sqrt(float(H)));
        const auto bias = random_vec(rng, G * H, 0.5f);
        const auto x = random_vec(rng, B * I, 1.0f);
        const auto h = random_vec(rng, B * H, 1.0f);
        const auto c0 = random_vec(rng, B * H, 1.0f);
        const std::vector<float> zeros(static_cast<size_t>(I), 0.0f);
        const AlignedFloats Wp = pack(*isa.k, G, H, I, W.data());
        const AlignedFloats Rp = pack(*isa.k, G, H, H, R.data());
        std::vector<const float*> x_rows, gx_rows;
        std::vector<float> gx(static_cast<size_t>(B * G * H), 0.0f);
        isa.k->gates(isa.k->shape(G, H, I), Wp.data(), B, {x.data(), I, nullptr}, bias.data(), gx.data(), G * H, 0,
                     isa.k->shape(G, H, I).panels());
        for (int64_t r = 0; r < B; ++r) {
          const bool active = r != 3;
          x_rows.push_back(active ? x.data() + r * I : zeros.data());
          gx_rows.push_back(active ? gx.data() + r * G * H : nullptr);
        }
        StepArgs a;
        a.shape = isa.k->shape(G, H, H); a.R = Rp.data(); a.B = B; a.gx = gx_rows.data();
        a.h = a.h_prev = h.data(); a.ldh = a.ldh_prev = a.ldh_next = a.ldc = H;
        const StepFn fn = lstm ? isa.k->lstm : isa.k->rnn;
        std::vector<float> c_two = c0, h_two(static_cast<size_t>(B * H), -7.0f);
        a.c = c_two.data(); a.h_next = h_two.data();
        run_halves(fn, a);
        // Fused: gx only marks the rows that take the step.
        std::vector<const float*> marks(static_cast<size_t>(B));
        for (int64_t r = 0; r < B; ++r) marks[static_cast<size_t>(r)] = r == 3 ? nullptr : x_rows[static_cast<size_t>(r)];
        std::vector<float> c_one = c0, h_one(static_cast<size_t>(B * H), -7.0f);
        a.c = c_one.data(); a.h_next = h_one.data(); a.gx = marks.data();
        a.W = Wp.data(); a.w_shape = isa.k->shape(G, H, I); a.x = x_rows.data(); a.bias = bias.data();
        run_halves(fn, a);
        CHECK(std::memcmp(h_one.data(), h_two.data(), h_one.size() * sizeof(float)) == 0);
        if (lstm) CHECK(std::memcmp(c_one.data(), c_two.data(), c_one.size() * sizeof(float)) == 0);
        // Requesting each next panel's lines ahead (both directions, W's and R's) changes no bit.
        std::vector<float> c_ahead = c0, h_ahead(static_cast<size_t>(B * H), -7.0f);
        a.c = c_ahead.data(); a.h_next = h_ahead.data(); a.prefetch_next = true;
        run_halves(fn, a);
        CHECK(std::memcmp(h_ahead.data(), h_one.data(), h_one.size() * sizeof(float)) == 0);
        if (lstm) CHECK(std::memcmp(c_ahead.data(), c_one.data(), c_one.size() * sizeof(float)) == 0);
        // And the values are right: the reference GEMM for x · W + bias and h · R, then the cell.
        const auto pre = ref_product(x, B, I, W, G * H, bias.data());
        const auto rec = ref_product(h, B, H, R, G * H, nullptr);
        std::vector<float> c_want = c0, h_want = h;
        for (int64_t r = 0; r < B; ++r) {
          if (r == 3) continue;
          if (lstm) {
            LstmCellParams p;
            p.f = {ActKind::sigmoid}; p.g = {ActKind::tanh}; p.h = {ActKind::tanh}; p.H = H;
            lstm_cell_f32_ref(p, H, pre.data() + r * G * H, rec.data() + r * G * H, c_want.data() + r * H, h_want.data() + r * H);
          } else {
            rnn_cell_f32_ref(RnnCellParams{{ActKind::tanh}, 0.0f}, H, pre.data() + r * H, rec.data() + r * H, h_want.data() + r * H);
          }
        }
        check_close(h_one, h_want, std::string(isa.name) + " fused h");
        if (lstm) check_close(c_one, c_want, std::string(isa.name) + " fused c");
      }
    }
  }
}

TEST_CASE("kernels: gate panels packed from row chunks in any order match the documented layout") {
  // out[p][k][g][s][v] = W[g*H + (p*S + s)*V + v][k], 0 past unit H (kernels/recurrent.hpp).
  std::mt19937 rng(11);
  for (const IsaCase& isa : isas()) {
    for (int64_t G : {1, 2, 3, 4}) {
      for (int64_t H : {1, 17, 37, 64, 130}) {
        for (int64_t K : {1, 15, 16, 40}) {
          CAPTURE(isa.name); CAPTURE(G); CAPTURE(H); CAPTURE(K);
          const PanelShape sh = isa.k->shape(G, H, K);
          const auto W = random_vec(rng, G * H * K, 1.0f);
          // Aligned (the packer streams whole lines there) vs a plain vector below (it cannot).
          const AlignedFloats out = pack_in_chunks(sh, W, rng);
          const int64_t pu = sh.units();
          bool ok = true;
          for (int64_t p = 0; p < sh.panels() && ok; ++p) {
            for (int64_t k = 0; k < K && ok; ++k) {
              for (int64_t g = 0; g < G && ok; ++g) {
                for (int64_t l = 0; l < pu && ok; ++l) {
                  const int64_t j = p * pu + l;
                  const float want = j < H ? W[static_cast<size_t>((g * H + j) * K + k)] : 0.0f;
                  const float got = out.data()[p * sh.panel_floats() + (k * G + g) * pu + l];
                  if (!(got == want)) {
                    FAIL_CHECK("panel " << p << " k " << k << " gate " << g << " lane " << l << ": got "
                                        << got << ", want " << want);
                    ok = false;
                  }
                }
              }
            }
          }
          std::vector<float> whole(static_cast<size_t>(sh.floats()), std::nanf(""));
          pack_panels_f32(sh, W.data(), whole.data());
          CHECK(std::memcmp(whole.data(), out.data(), whole.size() * sizeof(float)) == 0);
        }
      }
    }
  }
}
