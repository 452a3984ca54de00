// The generic parallel loop over [0, n) in contiguous chunks, and the FTZ/DAZ guard every thread
// that runs kernels holds. Threads start here, in the panel path's one parallel region per layer
// (runtime/panel_layer.cpp) and in Model::load's helpers (runtime/model.cpp, formats/); with
// threads == 1 no OpenMP region is ever entered. Kernels never see threads themselves.
#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>

#include "recur/model.hpp"

namespace recur {

// Limits on RunOptions.threads.
inline constexpr int kMaxThreads = 1024;

// available_cpus() (include/recur/model.hpp): the affinity mask capped by a cgroup quota.
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
// (except the last), on up to `threads` threads. fn must not throw. threads <= 1, or less
// than kMinParallelWork in all (n * work_per_item), runs fn(0, n) on the calling thread.
void parallel_for(int threads, int64_t n, int64_t grain, int64_t work_per_item, RangeFn fn);

}  // namespace recur
