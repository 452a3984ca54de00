// parallel_for over the helper pool, CPU counting, thread-count precedence, and the FTZ/DAZ guard.
#include "runtime/parallel.hpp"

#include <sched.h>

#include <algorithm>
#include <cstdlib>

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define RECUR_HAVE_MXCSR 1
#endif

#include "runtime/contention.hpp"
#include "runtime/cpu_quota.hpp"
#include "runtime/thread_pool.hpp"

namespace recur {

namespace {
#ifdef RECUR_HAVE_MXCSR
constexpr unsigned kFtzDaz = 0x8040;  // MXCSR bit 15 flush-to-zero, bit 6 denormals-are-zero
#endif
constexpr int64_t kPartsPerThread = 4;
// Work (multiply-adds) from which a loop wakes sleeping helpers: tens of microseconds on one
// thread, several times what waking one costs. Below, only helpers still spinning after their
// last job join in.
constexpr int64_t kWakeMinWork = int64_t{1} << 20;
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

namespace {

// "4" or "4,2" (OMP_NUM_THREADS lists one count per nesting level) -> 4; 0 when `text` is null,
// not a decimal integer in 1..kMaxThreads, or has anything else after it.
int parse_thread_count(const char* text) noexcept {
  if (!text) return 0;
  int n = 0;
  const char* p = text;
  while (*p == ' ') ++p;
  const char* digits = p;
  while (*p >= '0' && *p <= '9') {
    n = n * 10 + (*p - '0');
    if (n > kMaxThreads) return 0;
    ++p;
  }
  if (p == digits || n < 1) return 0;
  while (*p == ' ') ++p;
  return *p == '\0' || *p == ',' ? n : 0;
}

}  // namespace

int resolve_threads(int requested, const char* recur_num_threads, const char* omp_num_threads,
                    int cpus) noexcept {
  if (requested > 0) return requested;
  int n = parse_thread_count(recur_num_threads);
  if (n == 0) n = parse_thread_count(omp_num_threads);
  if (n == 0) return kDefaultThreads;
  return std::max(1, std::min(n, cpus));
}

int resolve_threads(int requested) noexcept {
  if (requested > 0) return requested;
  // Read once: getenv is not safe against a concurrent setenv, and step() runs often.
  static const int from_environment =
      resolve_threads(0, std::getenv("RECUR_NUM_THREADS"), std::getenv("OMP_NUM_THREADS"), available_cpus());
  return from_environment;
}

int resolved_threads(const RunOptions& options) noexcept { return resolve_threads(options.threads); }

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
  const int64_t work = n * std::max<int64_t>(1, work_per_item);
  if (threads <= 1 || work < kMinParallelWork || run_alone(work)) {
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
  // A few parts per thread, handed out one at a time: a thread that the scheduler holds back
  // takes fewer, and the others (the caller first) take the rest.
  const int64_t parts = std::min(grains, teams * kPartsPerThread);
  const int64_t per = grains / parts, extra = grains % parts;  // the first `extra` parts take one more
  auto part = [&](int64_t p) {
    const int64_t g0 = p * per + std::min(p, extra);
    const int64_t g1 = g0 + per + (p < extra ? 1 : 0);
    fn(std::min(n, g0 * grain), std::min(n, g1 * grain));
  };
  run_parts(static_cast<int>(teams - 1), parts, work >= kWakeMinWork, PartFn(part));
}

}  // namespace recur
