// The helper threads behind parallel_for. A helper sleeps on a futex when it has nothing to
// do (after a short spin), so on a machine whose CPUs are all busy it never burns the time
// slice another thread needs; and the calling thread does every part no helper has started,
// so a helper the scheduler has not run yet delays nothing: a call never waits for a thread
// that has not begun, only for parts already under way.
#pragma once

#include <cstdint>

namespace recur {

// A non-owning reference to fn(part); never allocates.
class PartFn {
 public:
  template <class F>
  explicit PartFn(F& f) noexcept
      : obj_(static_cast<void*>(&f)), call_([](void* o, int64_t p) { (*static_cast<F*>(o))(p); }) {}
  void operator()(int64_t part) const { call_(obj_, part); }

 private:
  void* obj_;
  void (*call_)(void*, int64_t);
};

// Calls fn(p) once for every p in [0, parts), on the calling thread and on up to `helpers`
// pool threads (each with denormals flushed, as the caller's). Parts are handed out in order,
// one at a time. Returns when every part is done. fn must not throw. `wake`: also wake helpers
// that sleep; else only those still awake after their last job take part.
// Waking costs a system call, the helper takes microseconds to run, and on a machine whose CPUs
// are all busy the woken thread may take the caller's own CPU: worth it for large jobs only.
void run_parts(int helpers, int64_t parts, bool wake, PartFn fn) noexcept;

}  // namespace recur
