// The one place recur uses threads: a parallel loop over [0, n) in contiguous chunks, and the
// FTZ/DAZ guard every thread that runs kernels holds. With threads == 1 no OpenMP region is
// ever entered. Kernels run inside chunks; they never see threads themselves.
#pragma once

#include <cstdint>
#include <functional>

namespace recur {

// Limits on RunOptions.threads.
inline constexpr int kMaxThreads = 1024;

// The number of CPUs this process may run on (sched_getaffinity), at least 1.
int available_cpus() noexcept;
// RunOptions.threads -> the thread count to use: 0 = available_cpus().
int resolve_threads(int requested) noexcept;

// Flush denormals to zero (MXCSR FTZ + DAZ) for the guard's lifetime, then restore.
class DenormalsFlushed {
 public:
  DenormalsFlushed() noexcept;
  ~DenormalsFlushed();
  DenormalsFlushed(const DenormalsFlushed&) = delete;
  DenormalsFlushed& operator=(const DenormalsFlushed&) = delete;

 private:
  unsigned saved_ = 0;
};

// Calls fn(begin, end) on disjoint chunks covering [0, n), each a multiple of `grain` long
// (except the last), on up to `threads` threads. fn must not throw. threads <= 1, or too
// little work to split, runs fn(0, n) on the calling thread.
using RangeFn = std::function<void(int64_t begin, int64_t end)>;
void parallel_for(int threads, int64_t n, int64_t grain, const RangeFn& fn);

}  // namespace recur
