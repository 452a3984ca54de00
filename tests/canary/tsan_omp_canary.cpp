// The OpenMP side of the TSan stage (RECUR_SANITIZER_CANARY): with `race` as argument, two
// threads of one OpenMP team write one variable unsynchronized, which TSan must report; without
// it, the team's threads hand data over through the team's own barrier and its join, which
// TSan must accept. The second half needs TSan to understand the OpenMP runtime's
// synchronization (LLVM's libomp with libarcher.so, OMP_TOOL_LIBRARIES): without libarcher, 2 of
// 3 runs here reported a false race (libomp is not instrumented; neither is libgomp).
#include <omp.h>

#include <cstdio>
#include <cstring>
#include <vector>

int main(int argc, char** argv) {
  const bool race = argc > 1 && std::strcmp(argv[1], "race") == 0;
  int shared = 0;
  std::vector<int> slots(2, 0), reads(2, 0);
#pragma omp parallel num_threads(2)
  {
    const size_t t = static_cast<size_t>(omp_get_thread_num());
    if (race) {
      for (int i = 0; i < 1000; ++i) shared = shared + static_cast<int>(t) + 1;
    } else {
      slots[t] = static_cast<int>(t) + 1;  // each its own slot ...
#pragma omp barrier
      reads[t] = slots[1 - t];  // ... read by the other after the barrier
    }
  }
  // Read after the join: 1 + 2 + 2 + 1 without the race.
  std::printf("team of 2: %d\n", race ? shared : slots[0] + slots[1] + reads[0] + reads[1]);
  return 0;
}
