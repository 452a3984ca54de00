// The generic parallel loop over [0, n) in contiguous chunks (on the helper pool,
// runtime/thread_pool.hpp), the thread count a call resolves to, and the FTZ/DAZ guard every
// thread that runs kernels holds. Threads start here, in the panel path's one parallel region
// per layer (runtime/panel_layer.cpp) and in Model::load's helpers (runtime/model.cpp,
// formats/); with threads == 1 no other thread is ever involved. Kernels never see threads
// themselves.
#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>

#include "recur/model.hpp"

namespace recur {

// Limits on RunOptions.threads.
inline constexpr int kMaxThreads = 1024;

// available_cpus() (include/recur/model.hpp): the affinity mask capped by a cgroup quota.
// RunOptions.threads -> the thread count to use, by one precedence: the call's option (N > 0),
// else RECUR_NUM_THREADS, else OMP_NUM_THREADS (its first value), else kDefaultThreads. An
// environment value is capped by available_cpus(); one that is not an integer in
// 1..kMaxThreads is ignored. The environment is read once, at the first call. The loops
// themselves use fewer when the work is too small to split (parallel_for, threads_for).
int resolve_threads(int requested) noexcept;

// One thread per call unless asked: a service runs many calls at once, and a second thread per
// call on a machine already busy costs more in waiting than it gains.
inline constexpr int kDefaultThreads = 1;

// resolve_threads with its inputs given: the two variables' values (null when unset) and the
// available CPUs.
int resolve_threads(int requested, const char* recur_num_threads, const char* omp_num_threads,
                    int cpus) noexcept;

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

// A non-owning reference to a callable fn(begin, end): unlike std::function it never
// allocates, so step() stays allocation-free.
class RangeFn {
 public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, RangeFn>>>
  RangeFn(F&& f) noexcept  // NOLINT: implicit by design
      : obj_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* o, int64_t b, int64_t e) { (*static_cast<std::remove_reference_t<F>*>(o))(b, e); }) {}
  void operator()(int64_t begin, int64_t end) const { call_(obj_, begin, end); }

 private:
  void* obj_;
  void (*call_)(void*, int64_t, int64_t);
};

// Below this many multiply-adds a loop is not worth waking another thread for.
inline constexpr int64_t kMinParallelWork = 65536;

// Calls fn(begin, end) on disjoint chunks covering [0, n), each a multiple of `grain` long
// (except the last), on up to `threads` threads: the caller and pool helpers, which take
// chunks as they come free. fn must not throw. threads <= 1, or less
// than kMinParallelWork in all (n * work_per_item), runs fn(0, n) on the calling thread.
void parallel_for(int threads, int64_t n, int64_t grain, int64_t work_per_item, RangeFn fn);

}  // namespace recur
