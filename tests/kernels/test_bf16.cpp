// bf16 recurrent panels (kernels/recurrent.hpp): the rounding, the packed layout, and the
// contract that a step over bf16 panels gives the bits of the same step over fp32 panels of the
// rounded weights, for every cell, ISA and path (one row, a few rows, many rows, the
// fused input projection, odd and even K).
#include <doctest/doctest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include "kernels/recurrent.hpp"
#include "tests/kernels/recurrent_helpers.hpp"

using namespace recur::kernels;
using namespace recur::kernels::testing;

namespace {

float rounded(float x) { return from_bf16(to_bf16(x)); }

std::vector<float> rounded(std::vector<float> v) {
  for (float& x : v) x = rounded(x);
  return v;
}

}  // namespace

TEST_CASE("kernels: to_bf16 rounds to the nearest bfloat16, ties to even; NaN, inf, -0 survive") {
  CHECK(to_bf16(1.0f) == 0x3f80);
  CHECK(from_bf16(0x3f80) == 1.0f);
  CHECK(to_bf16(1.0f + 0x1p-8f) == 0x3f80);            // halfway, down to even
  CHECK(to_bf16(1.0f + 3 * 0x1p-8f) == 0x3f82);        // halfway, up to even
  CHECK(to_bf16(1.0f + 0x1p-8f + 0x1p-20f) == 0x3f81); // just above halfway
  CHECK(to_bf16(-0.0f) == 0x8000);
  CHECK(to_bf16(std::numeric_limits<float>::infinity()) == 0x7f80);
  CHECK(to_bf16(-std::numeric_limits<float>::infinity()) == 0xff80);
  CHECK(to_bf16(FLT_MAX) == 0x7f80);                   // beyond the largest bf16
  CHECK(std::isnan(rounded(std::nanf(""))));
  CHECK(std::isnan(rounded(-std::nanf(""))));
  // Every bfloat16 that is a number comes back as itself.
  for (uint32_t b = 0; b < 0x10000; ++b) {
    const float x = from_bf16(static_cast<uint16_t>(b));
    if (std::isnan(x)) continue;
    if (to_bf16(x) != b) {
      FAIL_CHECK("bf16 " << b << " does not round-trip");
      break;
    }
  }
  // Nearest: within half a unit of the last place, and neither neighbour is closer.
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> mant(1.0f, 2.0f);
  for (int i = 0; i < 100000; ++i) {
    const float x = std::ldexp(mant(rng), static_cast<int>(rng() % 200) - 100) * (i % 2 ? -1.0f : 1.0f);
    const uint16_t b = to_bf16(x);
    const double err = std::fabs(double(from_bf16(b)) - x);
    const double up = std::fabs(double(from_bf16(static_cast<uint16_t>(b + 1))) - x);
    const double down = std::fabs(double(from_bf16(static_cast<uint16_t>(b - 1))) - x);
    if (!(err <= std::ldexp(std::fabs(double(x)), -8) && err <= up && err <= down)) {
      FAIL_CHECK("to_bf16(" << x << ") = " << from_bf16(b));
      break;
    }
  }
}

TEST_CASE("kernels: bf16 panels packed from row chunks match the documented layout") {
  // word [p][k/2][g][s][v]: low half W[g*H + (p*S + s)*V + v][k], high half the same at k + 1;
  // 0 past unit H and past K.
  std::mt19937 rng(5);
  for (const IsaCase& isa : isas()) {
    for (int64_t G : {1, 2, 3, 4}) {
      for (int64_t H : {1, 17, 64, 130}) {
        for (int64_t K : {1, 15, 16, 41}) {
          CAPTURE(isa.name); CAPTURE(G); CAPTURE(H); CAPTURE(K);
          const PanelShape sh = isa.k->shape(G, H, K, true);
          REQUIRE(sh.panel_floats() == (K + 1) / 2 * G * sh.units());
          const auto W = random_vec(rng, G * H * K, 1.0f);
          const AlignedFloats out = pack_in_chunks(sh, W, rng);
          const uint16_t* halves = reinterpret_cast<const uint16_t*>(out.data());
          const int64_t pu = sh.units();
          bool ok = true;
          for (int64_t p = 0; p < sh.panels() && ok; ++p) {
            for (int64_t k = 0; k < 2 * sh.k_rows() && ok; ++k) {
              for (int64_t g = 0; g < G && ok; ++g) {
                for (int64_t l = 0; l < pu && ok; ++l) {
                  const int64_t j = p * pu + l;
                  const float w = j < H && k < K ? W[static_cast<size_t>((g * H + j) * K + k)] : 0.0f;
                  const int64_t word = p * sh.panel_floats() + (k / 2 * G + g) * pu + l;
                  const uint16_t got = halves[2 * word + (k & 1)];
                  if (got != to_bf16(w)) {
                    FAIL_CHECK("panel " << p << " k " << k << " gate " << g << " lane " << l << ": got "
                                        << from_bf16(got) << ", want " << w);
                    ok = false;
                  }
                }
              }
            }
          }
          AlignedFloats whole(sh.floats());
          pack_panels_f32(sh, W.data(), whole.data());
          CHECK(std::memcmp(whole.data(), out.data(), static_cast<size_t>(sh.floats()) * sizeof(float)) == 0);
        }
      }
    }
  }
}

namespace {

enum class Cell { lstm, lstm_fused, rnn, rnn_fused, gru_lbr, gru_two_phase };

const char* cell_label(Cell c) {
  switch (c) {
    case Cell::lstm: return "lstm";
    case Cell::lstm_fused: return "lstm fused";
    case Cell::rnn: return "rnn";
    case Cell::rnn_fused: return "rnn fused";
    case Cell::gru_lbr: return "gru lbr";
    case Cell::gru_two_phase: return "gru two-phase";
  }
  return "?";
}

// One step of `cell` over R (G*H, H) packed as bf16 (bf16 = true) or as fp32 after rounding:
// returns h_next followed by c (lstm). Row 3 (when B > 3) does not take the step.
std::vector<float> step_once(const RecurrentKernels& k, Cell cell, bool bf16, int64_t I, int64_t H,
                             int64_t B, uint32_t seed) {
  std::mt19937 rng(seed);
  const bool lstm = cell == Cell::lstm || cell == Cell::lstm_fused;
  const bool gru = cell == Cell::gru_lbr || cell == Cell::gru_two_phase;
  const bool fused = cell == Cell::lstm_fused || cell == Cell::rnn_fused;
  const int64_t G = lstm ? 4 : (gru ? 3 : 1);
  const auto R = random_vec(rng, G * H * H, 1.0f / std::sqrt(float(H)));
  const auto W = random_vec(rng, G * H * I, 1.0f / std::sqrt(float(I)));
  const auto bias = random_vec(rng, G * H, 0.5f);
  const auto x = random_vec(rng, B * I, 1.0f);
  StepCase t(rng, B, H, G);
  std::vector<float> c = random_vec(rng, B * H, 1.0f);
  const std::vector<float> Rr = bf16 ? R : rounded(R);
  const AlignedFloats Wp = pack(k, G, H, I, W.data());
  std::vector<const float*> x_rows;
  for (int64_t r = 0; r < B; ++r) x_rows.push_back(x.data() + r * I);
  std::vector<float> h_next(static_cast<size_t>(B * H), -7.0f);
  StepArgs a;
  a.B = B; a.gx = t.gx_rows.data(); a.h = a.h_prev = t.h.data(); a.h_next = h_next.data(); a.c = c.data();
  a.ldh = a.ldh_prev = a.ldh_next = a.ldc = H;
  if (fused) {
    a.W = Wp.data(); a.w_shape = k.shape(G, H, I); a.x = x_rows.data(); a.bias = bias.data();
  }
  if (cell == Cell::gru_two_phase) {
    const AlignedFloats zr = pack(k, 2, H, H, Rr.data(), bf16);
    const AlignedFloats n = pack(k, 1, H, H, Rr.data() + 2 * H * H, bf16);
    std::vector<float> z(static_cast<size_t>(B * H)), rh(static_cast<size_t>(B * H));
    a.z = z.data(); a.rh = rh.data(); a.ldz = H;
    a.shape = k.shape(2, H, H, bf16); a.R = zr.data();
    run_halves(k.gru_zr, a);
    a.shape = k.shape(1, H, H, bf16); a.R = n.data(); a.h = rh.data();
    run_halves(k.gru_n, a);
  } else {
    const AlignedFloats panels = pack(k, G, H, H, Rr.data(), bf16);
    a.shape = k.shape(G, H, H, bf16); a.R = panels.data(); a.bias_n = bias.data();
    run_halves(lstm ? k.lstm : (gru ? k.gru_lbr : k.rnn), a);
  }
  std::vector<float> out = h_next;
  if (lstm) out.insert(out.end(), c.begin(), c.end());
  return out;
}

}  // namespace

TEST_CASE("kernels: a step over bf16 panels equals the step over fp32 panels of the rounded weights") {
  struct Shape {
    int64_t I, H, B;
  };
  // One row (two panels at a time), a few rows, many rows with long k (row blocks and a tail
  // over the bf16 words), odd and even K.
  const Shape shapes[] = {{5, 17, 1}, {8, 64, 1}, {37, 34, 3}, {16, 33, 7}, {300, 401, 13}, {64, 400, 20}};
  uint32_t seed = 1;
  for (const IsaCase& isa : isas()) {
    if (!isa.available) continue;
    for (Cell cell : {Cell::lstm, Cell::lstm_fused, Cell::rnn, Cell::rnn_fused, Cell::gru_lbr, Cell::gru_two_phase}) {
      for (const Shape& s : shapes) {
        CAPTURE(isa.name); CAPTURE(cell_label(cell)); CAPTURE(s.I); CAPTURE(s.H); CAPTURE(s.B);
        ++seed;
        const auto got = step_once(*isa.k, cell, true, s.I, s.H, s.B, seed);
        const auto want = step_once(*isa.k, cell, false, s.I, s.H, s.B, seed);
        CHECK(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0);
      }
    }
  }
}
