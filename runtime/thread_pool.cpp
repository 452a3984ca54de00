// The helper pool: workers created on first need and kept (never joined: the process's exit
// ends them), each with one futex word that says what it should do.
#include "runtime/thread_pool.hpp"

#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/contention.hpp"
#include "runtime/parallel.hpp"
#include "runtime/spin_barrier.hpp"

namespace recur {
namespace {

void futex_wait(std::atomic<uint32_t>& word, uint32_t value) noexcept {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAIT_PRIVATE, value, nullptr, nullptr, 0);
}
void futex_wake(std::atomic<uint32_t>& word) noexcept {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
}

// The parts of one run_parts call, on the caller's stack.
struct Job {
  PartFn fn;
  int64_t parts;
  std::atomic<int64_t> next{0};
  std::atomic<int64_t> helper_ns{0}, helper_parts{0};  // the helpers' time on their parts

  // Runs parts until none is left; returns how many, and their time in `ns`.
  int64_t work(int64_t& ns) noexcept {
    const int64_t t0 = now_ns();
    int64_t done = 0;
    for (int64_t p = next.fetch_add(1, std::memory_order_relaxed); p < parts;
         p = next.fetch_add(1, std::memory_order_relaxed), ++done) {
      fn(p);
    }
    ns = now_ns() - t0;
    return done;
  }
};

// A worker's futex word. The caller moves it idle -> assigned -> (running -> done) -> idle, or
// assigned -> cancelled when it finished every part before the worker started; the worker
// moves assigned -> running -> done, and cancelled -> idle. The *_sleeping values say that
// the other side sleeps on the word and must be woken.
enum : uint32_t { kIdle, kIdleSleeping, kAssigned, kRunning, kRunningWaited, kDone, kDoneSleeping, kCancelled };

// Pauses before a wait yields or sleeps (a pause is 10-150 cycles, by CPU): a few microseconds.
// A longer spin makes a helper a CPU hog to the scheduler of a machine whose CPUs are all busy,
// which then preempts it in the middle of its share, and the caller waits a time slice for it.
constexpr int kSpins = 100;
// Then a helper yields its CPU in a loop this long before it sleeps: it stays awake for the next
// job (no wake-up needed: waking a thread on a busy machine can cost the waker its own CPU),
// while a machine with other work to do loses nothing to it.
constexpr int64_t kYieldNs = 1000000;

class Pool;

struct Worker {
  alignas(64) std::atomic<uint32_t> state{kIdle};
  Job* job = nullptr;  // set by the caller before `assigned`
};

class Pool {
 public:
  // Up to `n` idle workers (with `wake` also those asleep, else only those still awake),
  // started if the pool has too few; fewer when the list is busy (never blocks) or a thread
  // cannot be created.
  int take(int n, bool wake, Worker** out) noexcept {
    std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
    if (!lock.owns_lock()) return 0;
    int got = 0;
    for (size_t i = idle_.size(); i-- > 0 && got < n;) {
      if (!wake && idle_[i]->state.load(std::memory_order_relaxed) != kIdle) continue;  // asleep
      out[got++] = idle_[i];
      idle_.erase(idle_.begin() + static_cast<std::ptrdiff_t>(i));
    }
    while (got < n && started_ < kMaxThreads) {
      Worker* w = start();
      if (!w) break;
      out[got++] = w;
    }
    return got;
  }

  void give_back(Worker* w) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    idle_.push_back(w);  // capacity reserved in start()
  }

 private:
  Worker* start() noexcept {
    try {
      idle_.reserve(static_cast<size_t>(started_) + 1);
      auto* w = new Worker;
      // The worker blocks every signal: a process-directed signal goes to the application's
      // own threads, as it would without recur.
      sigset_t all, old;
      sigfillset(&all);
      pthread_sigmask(SIG_SETMASK, &all, &old);
      try {
        std::thread([this, w] { serve(*w); }).detach();
      } catch (...) {
        pthread_sigmask(SIG_SETMASK, &old, nullptr);
        delete w;
        return nullptr;
      }
      pthread_sigmask(SIG_SETMASK, &old, nullptr);
      ++started_;
      return w;
    } catch (...) {
      return nullptr;
    }
  }

  void serve(Worker& w) noexcept {
    for (;;) {
      uint32_t s = w.state.load(std::memory_order_acquire);
      for (int i = 0; i < kSpins && (s == kIdle || s == kDone); ++i) {
        RECUR_SPIN_PAUSE();
        s = w.state.load(std::memory_order_acquire);
      }
      // Then yield for a while: awake for the next job without holding a CPU anyone else wants.
      for (const int64_t t0 = now_ns(); (s == kIdle || s == kDone) && now_ns() - t0 < kYieldNs;) {
        sched_yield();
        s = w.state.load(std::memory_order_acquire);
      }
      if (s == kIdle || s == kDone) {
        const uint32_t sleeping = s == kIdle ? kIdleSleeping : kDoneSleeping;
        if (w.state.compare_exchange_strong(s, sleeping, std::memory_order_acq_rel)) futex_wait(w.state, sleeping);
      } else if (s == kIdleSleeping || s == kDoneSleeping) {
        futex_wait(w.state, s);  // woken early: sleep on
      } else if (s == kCancelled) {
        w.state.store(kIdle, std::memory_order_relaxed);
        give_back(&w);
      } else if (s == kAssigned && w.state.compare_exchange_strong(s, kRunning, std::memory_order_acq_rel)) {
        {
          DenormalsFlushed ftz;
          int64_t ns = 0;
          if (const int64_t done = w.job->work(ns); done > 0) {
            w.job->helper_ns.fetch_add(ns, std::memory_order_relaxed);
            w.job->helper_parts.fetch_add(done, std::memory_order_relaxed);
          }
        }
        if (w.state.exchange(kDone, std::memory_order_acq_rel) == kRunningWaited) futex_wake(w.state);
      }
    }
  }

  std::mutex mutex_;
  std::vector<Worker*> idle_;
  int started_ = 0;
};

Pool& pool() {
  static Pool* p = new Pool;  // never destroyed: detached workers use it until exit
  return *p;
}

// Waits until a worker that has started its share of the job is done with it.
void wait_done(Worker& w) noexcept {
  uint32_t s = w.state.load(std::memory_order_acquire);
  for (int i = 0; i < kSpins && s == kRunning; ++i) {
    RECUR_SPIN_PAUSE();
    s = w.state.load(std::memory_order_acquire);
  }
  if (s != kRunning && s != kRunningWaited) return;
  const int64_t t0 = now_ns();
  while (s == kRunning || s == kRunningWaited) {
    if (s == kRunning && !w.state.compare_exchange_strong(s, kRunningWaited, std::memory_order_acq_rel)) continue;
    futex_wait(w.state, kRunningWaited);
    s = w.state.load(std::memory_order_acquire);
  }
  note_wait(now_ns() - t0);
}

}  // namespace

void run_parts(int helpers, int64_t parts, bool wake, PartFn fn) noexcept {
  Job job{fn, parts};
  Worker* workers[kMaxThreads];
  const int64_t wanted = std::min<int64_t>({helpers, parts - 1, kMaxThreads});
  const int n = wanted > 0 ? pool().take(static_cast<int>(wanted), wake, workers) : 0;
  for (int i = 0; i < n; ++i) {
    workers[i]->job = &job;
    if (workers[i]->state.exchange(kAssigned, std::memory_order_acq_rel) == kIdleSleeping) {
      futex_wake(workers[i]->state);
    }
  }
  int64_t own_ns = 0;
  const int64_t own = job.work(own_ns);
  for (int i = 0; i < n; ++i) {
    Worker& w = *workers[i];
    uint32_t assigned = kAssigned;
    // Not started yet: it never will for this job (the worker hands itself back).
    if (w.state.compare_exchange_strong(assigned, kCancelled, std::memory_order_acq_rel)) continue;
    wait_done(w);
    if (w.state.exchange(kIdle, std::memory_order_acq_rel) == kDoneSleeping) futex_wake(w.state);
    pool().give_back(&w);
  }
  // The caller's parts much slower than the helpers': it lost its CPU meanwhile (on a busy
  // machine a woken helper may take the waker's own CPU), which serial code would not have.
  const int64_t hp = job.helper_parts.load(std::memory_order_relaxed);
  if (own > 0 && hp > 0) {
    const int64_t slower = own_ns / own - 3 * (job.helper_ns.load(std::memory_order_relaxed) / hp);
    if (slower > 0) note_wait(slower);
  }
}

}  // namespace recur
