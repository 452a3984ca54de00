// Multi-threaded run and step from several callers at once, on routes that use every kind of
// team: the fast path's persistent region splitting units (barrier per step), splitting rows,
// both directions at once, GRU's two phases, and step's pool loops. In the concurrency suite,
// so the TSan stage (LLVM libomp + libarcher, scripts/test.sh) sees the teams' handoffs.
#include <thread>

#include "runtime/contention.hpp"
#include "runtime_helpers.hpp"

using namespace recur;
using namespace recur::test;

TEST_CASE("callers running 2-thread run and step at once match serial calls" * doctest::test_suite("concurrency")) {
  // Teams even when waits are long (under TSan every wait is): contention.hpp would otherwise
  // run most of these calls on one thread.
  set_run_alone_allowed(false);
  struct Restore {
    ~Restore() { set_run_alone_allowed(true); }
  } restore;
  struct Case {
    CellType cell;
    Direction direction;
    int64_t B;  // 8: units split per step; 40: rows split
  };
  const Case cases[] = {{CellType::lstm, Direction::forward, 8},
                        {CellType::lstm, Direction::forward, 40},
                        {CellType::gru, Direction::forward, 8},
                        {CellType::lstm, Direction::bidirectional, 8}};
  for (const Case& c : cases) {
    CAPTURE(cell_name(c.cell));
    CAPTURE(c.B);
    SpecOptions o;
    o.cell = c.cell;
    o.direction = c.direction;
    o.hidden_size = 128;  // enough work per step for every loop to split
    const Model m = make_model(o);
    const int64_t T = 5, I = m.input_size();
    const std::vector<float> x = random_values(static_cast<size_t>(T * c.B * I), 17);
    RunOptions one, two;
    one.threads = 1;
    two.threads = 2;
    const RunOutput want = run_ok(m, RunInput{x.data(), T, c.B}, one);
    const bool streams = c.direction == Direction::forward;
    const Stepped want_steps = streams ? step_all(m, x.data(), T, c.B, nullptr, nullptr, one) : Stepped{};

    constexpr int kCallers = 3;
    std::vector<int> mismatches(kCallers, 0);
    std::vector<std::thread> callers;
    for (int i = 0; i < kCallers; ++i) {
      callers.emplace_back([&, i] {
        Result<RunOutput> r = m.run(RunInput{x.data(), T, c.B}, two);
        if (!r.ok() || r->y != want.y || r->h_n != want.h_n || r->c_n != want.c_n) ++mismatches[i];
        if (!streams) return;
        Result<State> s = m.new_state(c.B);
        if (!s.ok()) {
          ++mismatches[i];
          return;
        }
        std::vector<float> y(static_cast<size_t>(T * c.B * m.output_size()));
        for (int64_t t = 0; t < T; ++t) {
          if (!m.step(*s, x.data() + t * c.B * I, y.data() + t * c.B * m.output_size(), two).ok()) ++mismatches[i];
        }
        if (y != want_steps.y) ++mismatches[i];
      });
    }
    for (std::thread& t : callers) t.join();
    for (int i = 0; i < kCallers; ++i) CHECK(mismatches[i] == 0);
  }
}
