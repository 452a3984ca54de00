// step() does not allocate: the global operator new is replaced in this test binary to count
// allocations made by the calling thread while a step runs.
#include <cstdlib>
#include <new>

#include "runtime_helpers.hpp"

namespace {
thread_local bool g_counting = false;
thread_local long g_allocations = 0;

void* counted_alloc(std::size_t n) {
  if (g_counting) ++g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t n) { return counted_alloc(n); }
void* operator new[](std::size_t n) { return counted_alloc(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

using namespace recur;
using namespace recur::test;

TEST_CASE("step does not allocate") {
  for (CellType cell : {CellType::rnn, CellType::lstm, CellType::gru}) {
    CAPTURE(cell_name(cell));
    SpecOptions o;
    o.cell = cell;
    o.num_layers = 2;
    o.hidden_size = 33;
    o.head_size = 4;
    o.head_softmax = true;
    if (cell == CellType::lstm) o.proj_size = 5;
    const Model m = make_model(o);
    const int64_t B = 3;
    const std::vector<float> x = random_values(static_cast<size_t>(B * m.input_size()), 1);
    std::vector<float> y(static_cast<size_t>(B * m.output_size()));
    Result<State> s = m.new_state(B);
    REQUIRE(s.ok());
    for (int threads : {1, 2}) {
      RunOptions opt;
      opt.threads = threads;
      REQUIRE(m.step(*s, x.data(), y.data(), opt).ok());  // warm-up (thread pool start)
      g_allocations = 0;
      g_counting = true;
      Status st = m.step(*s, x.data(), y.data(), opt);
      g_counting = false;
      CHECK(st.ok());
      CHECK(g_allocations == 0);
    }
  }
}
