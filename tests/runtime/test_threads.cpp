// Thread safety and thread counts: one shared Model used by 64 threads at once gives exactly
// the serial results; threads=1, 2 and 0 (automatic) give identical bits.
#include <thread>

#include "runtime_helpers.hpp"

using namespace recur;
using namespace recur::test;

TEST_CASE("threads 1 and 2 and 0 give identical results") {
  for (CellType cell : {CellType::rnn, CellType::lstm, CellType::gru}) {
    CAPTURE(cell_name(cell));
    SpecOptions o;
    o.cell = cell;
    o.direction = Direction::bidirectional;
    o.num_layers = 2;
    o.hidden_size = 128;  // enough work per step for every loop to split (kMinParallelWork)
    o.head_size = 5;
    o.head_softmax = true;
    const Model m = make_model(o);
    const int64_t T = 7, B = 16, I = m.input_size();
    const std::vector<float> x = random_values(static_cast<size_t>(T * B * I), 4);
    const std::vector<int32_t> len = {7, 1, 3, 0, 7, 6, 2, 5, 4, 7, 7, 7, 3, 2, 1, 6};
    RunInput in{x.data(), T, B};
    in.lengths = len.data();
    RunOptions one, two, all;
    one.threads = 1;
    two.threads = 2;
    all.threads = 0;
    const RunOutput a = run_ok(m, in, one);
    const RunOutput b = run_ok(m, in, two);
    const RunOutput c = run_ok(m, in, all);
    require_same_bits(a.y, b.y);
    require_same_bits(a.h_n, b.h_n);
    require_same_bits(a.c_n, b.c_n);
    require_same_bits(a.y, c.y);
  }
  SpecOptions o;
  o.hidden_size = 128;
  o.proj_size = 20;
  o.num_layers = 2;
  const Model m = make_model(o);
  const int64_t T = 5, B = 16;
  const std::vector<float> x = random_values(static_cast<size_t>(T * B * m.input_size()), 8);
  RunOptions one, two;
  one.threads = 1;
  two.threads = 2;
  const Stepped s1 = step_all(m, x.data(), T, B, nullptr, nullptr, one);
  const Stepped s2 = step_all(m, x.data(), T, B, nullptr, nullptr, two);
  require_same_bits(s1.y, s2.y);
  require_same_bits(s1.h, s2.h);
  require_same_bits(s1.c, s2.c);
}

// run() projects the inputs a chunk of steps at a time (about 64 rows), or, for lstm and rnn
// with 16+ rows per thread, inside each step. At B = 8 and 16 two threads split the units of
// each step (each projecting for its own), at B = 40 they split the rows (each running the whole
// sequence for 20 rows). T = 45 is many chunks, and the rows' lengths end inside and between them.
TEST_CASE("threads 1 and 2 give identical results over several input-projection chunks") {
  const std::vector<int32_t> pattern = {45, 1, 12, 0, 13, 44, 24, 25, 36, 45, 37, 11, 3, 45, 30, 9};
  const int64_t T = 45;
  for (int64_t B : {8, 16, 40}) {
    std::vector<int32_t> len(static_cast<size_t>(B));
    for (size_t b = 0; b < len.size(); ++b) len[b] = pattern[(b * 7) % pattern.size()];
    const std::vector<float> x = random_values(static_cast<size_t>(T * B * 9), 6);
    RunInput in{x.data(), T, B};
    in.lengths = len.data();
    RunOptions one, two;
    one.threads = 1;
    two.threads = 2;
    for (CellType cell : {CellType::rnn, CellType::lstm, CellType::gru}) {
      for (Direction dir : {Direction::forward, Direction::reverse}) {
        for (bool lbr : {false, true}) {
          if (lbr && cell != CellType::gru) continue;
          CAPTURE(B); CAPTURE(cell_name(cell)); CAPTURE(static_cast<int>(dir)); CAPTURE(lbr);
          SpecOptions o;
          o.cell = cell;
          o.direction = dir;
          o.linear_before_reset = lbr;
          o.input_size = 9;
          o.hidden_size = 128;  // enough work per step for two threads
          const Model m = make_model(o);
          const RunOutput a = run_ok(m, in, one);
          const RunOutput b = run_ok(m, in, two);
          require_same_bits(a.y, b.y);
          require_same_bits(a.h_n, b.h_n);
          require_same_bits(a.c_n, b.c_n);
        }
      }
    }
  }
}

TEST_CASE("64 threads calling run and step on one shared Model match serial calls" * doctest::test_suite("concurrency")) {
  SpecOptions o;
  o.cell = CellType::lstm;
  o.num_layers = 2;
  o.hidden_size = 24;
  o.peepholes = true;
  o.head_size = 3;
  const Model model = make_model(o);
  const int64_t T = 12, I = model.input_size();
  constexpr int kThreads = 64;  // more callers than cores, mixed run and step
  // Half the calls on one thread (the service configuration), half on two. (TSan follows the
  // OpenMP teams too: its stage runs on LLVM's libomp with libarcher, scripts/test.sh.)
  constexpr int kMaxInnerThreads = 2;

  // Serial results, one distinct input per caller.
  std::vector<std::vector<float>> xs, run_y, step_y, step_h;
  for (int i = 0; i < kThreads; ++i) {
    const int64_t B = 1 + i % 3;
    xs.push_back(random_values(static_cast<size_t>(T * B * I), 100 + i));
    RunOptions opt;
    opt.threads = 1 + i % kMaxInnerThreads;
    run_y.push_back(run_ok(model, RunInput{xs.back().data(), T, B}, opt).y);
    const Stepped s = step_all(model, xs.back().data(), T, B, nullptr, nullptr, opt);
    step_y.push_back(s.y);
    step_h.push_back(s.h);
  }

  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> pool;
  for (int i = 0; i < kThreads; ++i) {
    pool.emplace_back([&, i] {
      const int64_t B = 1 + i % 3;
      RunOptions opt;
      opt.threads = 1 + i % kMaxInnerThreads;
      for (int rep = 0; rep < 3; ++rep) {
        Result<RunOutput> r = model.run(RunInput{xs[i].data(), T, B}, opt);
        if (!r.ok() || r->y != run_y[i]) ++mismatches[i];
        Result<State> s = model.new_state(B);
        if (!s.ok()) { ++mismatches[i]; continue; }
        std::vector<float> y(static_cast<size_t>(T * B * model.output_size()));
        for (int64_t t = 0; t < T; ++t) {
          if (!model.step(*s, xs[i].data() + t * B * I, y.data() + t * B * model.output_size(), opt).ok())
            ++mismatches[i];
        }
        std::vector<float> h(step_h[i].size());
        if (!s->get(h.data(), nullptr).ok() || y != step_y[i] || h != step_h[i]) ++mismatches[i];
      }
    });
  }
  for (std::thread& t : pool) t.join();
  for (int i = 0; i < kThreads; ++i) CHECK(mismatches[i] == 0);
}
