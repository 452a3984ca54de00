// parallel_for over OpenMP, CPU counting, and the FTZ/DAZ guard.
#include "runtime/parallel.hpp"

#include <sched.h>

#include <algorithm>

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define RECUR_HAVE_MXCSR 1
#endif

#include <omp.h>

#include "runtime/cpu_quota.hpp"

namespace recur {

namespace {
#ifdef RECUR_HAVE_MXCSR
constexpr unsigned kFtzDaz = 0x8040;  // MXCSR bit 15 flush-to-zero, bit 6 denormals-are-zero
#endif
}  // namespace

int available_cpus() noexcept {
  // Read once: the cgroup files do not change under a running process in practice, and this
  // is called on every run() with threads = 0.
  static const int quota = cgroup_cpu_limit();
  int n = 1;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) n = CPU_COUNT(&set);
  return quota > 0 && quota < n ? quota : n;
}

int resolve_threads(int requested) noexcept {
  return requested == 0 ? available_cpus() : std::max(1, requested);
}

DenormalsFlushed::DenormalsFlushed() noexcept {
#ifdef RECUR_HAVE_MXCSR
  saved_ = _mm_getcsr();
  _mm_setcsr(saved_ | kFtzDaz);
#endif
}

DenormalsFlushed::~DenormalsFlushed() {
#ifdef RECUR_HAVE_MXCSR
  _mm_setcsr(saved_);
#endif
}

void parallel_for(int threads, int64_t n, int64_t grain, int64_t work_per_item, RangeFn fn) {
  if (n <= 0) return;
  if (threads <= 1 || n * std::max<int64_t>(1, work_per_item) < kMinParallelWork) {
    fn(0, n);
    return;
  }
  grain = std::max<int64_t>(1, grain);
  const int64_t grains = (n + grain - 1) / grain;
  const int64_t teams = std::min<int64_t>(threads, grains);
  if (teams <= 1) {
    fn(0, n);
    return;
  }
#pragma omp parallel num_threads(static_cast<int>(teams))
  {
    DenormalsFlushed ftz;
    const int64_t t = omp_get_thread_num();
    const int64_t nt = omp_get_num_threads();
    // Grains split as evenly as possible: the first (grains % nt) threads take one more.
    const int64_t per = grains / nt;
    const int64_t extra = grains % nt;
    const int64_t g0 = t * per + std::min(t, extra);
    const int64_t g1 = g0 + per + (t < extra ? 1 : 0);
    const int64_t begin = std::min(n, g0 * grain);
    const int64_t end = std::min(n, g1 * grain);
    if (begin < end) fn(begin, end);
  }
}

}  // namespace recur
