// run() semantics checked against run() itself on rearranged problems (bit for bit): layouts,
// per-sequence lengths (ONNX sequence_lens), directions, and the head over padded steps.
// Numeric agreement with PyTorch/onnxruntime and the fp64 reference lives in test_golden* /
// test_property*.
#include "runtime_helpers.hpp"

using namespace recur;
using namespace recur::test;

namespace {

// Row-major (T, B, W) <-> (B, T, W).
std::vector<float> swap_tb(const std::vector<float>& a, int64_t d0, int64_t d1, int64_t w) {
  std::vector<float> out(a.size());
  for (int64_t i = 0; i < d0; ++i)
    for (int64_t j = 0; j < d1; ++j)
      for (int64_t k = 0; k < w; ++k) out[(j * d0 + i) * w + k] = a[(i * d1 + j) * w + k];
  return out;
}

// Rows [b] of a (R, B, W) state tensor, as a (R, 1, W) tensor.
std::vector<float> state_of(const std::vector<float>& s, int64_t rows, int64_t B, int64_t w,
                            int64_t b) {
  std::vector<float> out;
  for (int64_t r = 0; r < rows; ++r) {
    const float* p = s.data() + (r * B + b) * w;
    out.insert(out.end(), p, p + w);
  }
  return out;
}

SpecOptions opts(CellType cell, Direction dir, int layers) {
  SpecOptions o;
  o.cell = cell;
  o.direction = dir;
  o.num_layers = layers;
  o.hidden_size = 6;
  o.input_size = 4;
  return o;
}

}  // namespace

TEST_CASE("batch_first input gives the transposed result of time-major input") {
  for (Direction dir : {Direction::forward, Direction::bidirectional}) {
    SpecOptions o = opts(CellType::lstm, dir, 2);
    const Model m = make_model(o);
    const int64_t T = 5, B = 3, I = m.input_size();
    const std::vector<float> x = random_values(static_cast<size_t>(T * B * I), 1);
    const std::vector<int32_t> len = {5, 2, 4};
    RunInput tm{x.data(), T, B};
    tm.lengths = len.data();
    const RunOutput a = run_ok(m, tm);
    const std::vector<float> xb = swap_tb(x, T, B, I);
    RunInput bf{xb.data(), T, B, Layout::batch_first};
    bf.lengths = len.data();
    const RunOutput b = run_ok(m, bf);
    CHECK(b.y_shape == std::vector<int64_t>{B, T, m.output_size()});
    CHECK(a.y_shape == std::vector<int64_t>{T, B, m.output_size()});
    require_same_bits(swap_tb(a.y, T, B, m.output_size()), b.y);
    require_same_bits(a.h_n, b.h_n);
    require_same_bits(a.c_n, b.c_n);
  }
}

// B = 20: lstm and rnn compute x · W inside each step of the batch, but project first when run
// alone (one row); the bits must not differ.
TEST_CASE("lengths: each sequence behaves as if run alone for its own length") {
  for (int64_t B : {4, 20}) {
    const int64_t T = 6;
    std::vector<int32_t> len = {6, 3, 0, 1};
    while (static_cast<int64_t>(len.size()) < B) len.push_back(static_cast<int32_t>(len.size() % 7));
    for (CellType cell : {CellType::rnn, CellType::lstm, CellType::gru}) {
      for (Direction dir : {Direction::forward, Direction::reverse, Direction::bidirectional}) {
        CAPTURE(B);
        CAPTURE(cell_name(cell));
        CAPTURE(direction_name(dir));
        const Model m = make_model(opts(cell, dir, 2));
        const int64_t I = m.input_size(), O = m.output_size();
        const std::vector<float> x = random_values(static_cast<size_t>(T * B * I), 5);
        const RunOutput probe = run_ok(m, RunInput{x.data(), 1, B});
        const int64_t rows = probe.h_shape[0], hw = probe.h_shape[2];
        const int64_t cw = probe.c_shape.empty() ? 0 : probe.c_shape[2];
        const std::vector<float> h0 = random_values(probe.h_n.size(), 6, 0.5f);
        const std::vector<float> c0 = random_values(probe.c_n.size(), 7, 0.5f);
        RunInput in{x.data(), T, B};
        in.lengths = len.data();
        in.h0 = h0.data();
        in.c0 = c0.empty() ? nullptr : c0.data();
        const RunOutput r = run_ok(m, in);

        for (int64_t b = 0; b < B; ++b) {
          CAPTURE(b);
          const int64_t L = len[static_cast<size_t>(b)];
          const std::vector<float> hb = state_of(h0, rows, B, hw, b);
          const std::vector<float> cb = state_of(c0, rows, B, cw, b);
          if (L == 0) {
            // No step taken: the final state is the initial one, every output is zero.
            CHECK(state_of(r.h_n, rows, B, hw, b) == hb);
            CHECK(state_of(r.c_n, rows, B, cw, b) == cb);
          } else {
            std::vector<float> xb;  // (L, 1, I)
            for (int64_t t = 0; t < L; ++t) {
              const float* p = x.data() + (t * B + b) * I;
              xb.insert(xb.end(), p, p + I);
            }
            RunInput one{xb.data(), L, 1};
            one.h0 = hb.data();
            one.c0 = cb.empty() ? nullptr : cb.data();
            const RunOutput s = run_ok(m, one);
            require_same_bits(state_of(r.h_n, rows, B, hw, b), s.h_n);
            require_same_bits(state_of(r.c_n, rows, B, cw, b), s.c_n);
            for (int64_t t = 0; t < L; ++t) {
              const std::vector<float> got(r.y.begin() + (t * B + b) * O, r.y.begin() + (t * B + b + 1) * O);
              const std::vector<float> want(s.y.begin() + t * O, s.y.begin() + (t + 1) * O);
              require_same_bits(got, want);
            }
          }
          for (int64_t t = L; t < T; ++t) {
            for (int64_t k = 0; k < O; ++k) CHECK(r.y[static_cast<size_t>((t * B + b) * O + k)] == 0.0f);
          }
        }
      }
    }
  }
}

TEST_CASE("bidirectional equals forward and reverse models side by side and reverse equals forward on reversed time") {
  for (CellType cell : {CellType::rnn, CellType::lstm, CellType::gru}) {
    CAPTURE(cell_name(cell));
    SpecOptions o = opts(cell, Direction::bidirectional, 1);
    const ModelSpec bi = random_spec(o);
    ModelSpec fwd = bi, rev = bi, rev_as_fwd = bi;
    fwd.layers[0].direction = Direction::forward;
    fwd.layers[0].weights = {bi.layers[0].weights[0]};
    rev.layers[0].direction = Direction::reverse;
    rev.layers[0].weights = {bi.layers[0].weights[1]};
    rev_as_fwd.layers[0].direction = Direction::forward;
    rev_as_fwd.layers[0].weights = {bi.layers[0].weights[1]};
    const Model mb = *Model::from_spec(bi), mf = *Model::from_spec(fwd),
                mr = *Model::from_spec(rev), mrf = *Model::from_spec(rev_as_fwd);
    const int64_t T = 5, B = 2, I = mb.input_size(), H = o.hidden_size;
    const std::vector<float> x = random_values(static_cast<size_t>(T * B * I), 9);
    const RunOutput yb = run_ok(mb, RunInput{x.data(), T, B});
    const RunOutput yf = run_ok(mf, RunInput{x.data(), T, B});
    const RunOutput yr = run_ok(mr, RunInput{x.data(), T, B});
    std::vector<float> xr;  // time reversed
    for (int64_t t = T - 1; t >= 0; --t) xr.insert(xr.end(), x.begin() + t * B * I, x.begin() + (t + 1) * B * I);
    const RunOutput yrf = run_ok(mrf, RunInput{xr.data(), T, B});
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t b = 0; b < B; ++b) {
        for (int64_t j = 0; j < H; ++j) {
          const float f = yb.y[static_cast<size_t>((t * B + b) * 2 * H + j)];
          const float r = yb.y[static_cast<size_t>((t * B + b) * 2 * H + H + j)];
          CHECK(f == yf.y[static_cast<size_t>((t * B + b) * H + j)]);
          CHECK(r == yr.y[static_cast<size_t>((t * B + b) * H + j)]);
          CHECK(r == yrf.y[static_cast<size_t>(((T - 1 - t) * B + b) * H + j)]);
        }
      }
    }
    // h_n rows: forward then reverse.
    std::vector<float> hn = yf.h_n;
    hn.insert(hn.end(), yr.h_n.begin(), yr.h_n.end());
    require_same_bits(yb.h_n, hn);
  }
}

TEST_CASE("head: padded steps see a zero input and the last-step head reads step len-1") {
  SpecOptions o = opts(CellType::gru, Direction::forward, 1);
  o.head_size = 3;
  const Model m = make_model(o);
  const ModelSpec spec = random_spec(o);
  const int64_t T = 4, B = 2, I = m.input_size();
  const std::vector<float> x = random_values(static_cast<size_t>(T * B * I), 2);
  const std::vector<int32_t> len = {4, 2};
  RunInput in{x.data(), T, B};
  in.lengths = len.data();
  const RunOutput r = run_ok(m, in);
  for (int64_t t = 2; t < T; ++t)
    for (int64_t k = 0; k < 3; ++k)
      CHECK(r.y[static_cast<size_t>((t * B + 1) * 3 + k)] == spec.head->b.data[static_cast<size_t>(k)]);

  SpecOptions ol = o;
  ol.head_last_step_only = true;
  const Model ml = make_model(ol);
  const RunOutput rl = run_ok(ml, in);
  CHECK(rl.y_shape == std::vector<int64_t>{B, 3});
  for (int64_t b = 0; b < B; ++b) {
    const int64_t t = len[static_cast<size_t>(b)] - 1;
    for (int64_t k = 0; k < 3; ++k)
      CHECK(rl.y[static_cast<size_t>(b * 3 + k)] == r.y[static_cast<size_t>((t * B + b) * 3 + k)]);
  }
}
