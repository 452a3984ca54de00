// A barrier for the threads of one group inside a persistent parallel region: the fused time
// loop waits on it once per step (twice for GRU without linear_before_reset). It spins briefly
// with a pause (an unloaded step's wait is a few microseconds), then sleeps on a futex, so an
// oversubscribed machine (more runnable threads than CPUs) does not burn the time slice the
// other member needs. A group of one never waits.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstdint>

#include "runtime/contention.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define RECUR_SPIN_PAUSE() _mm_pause()
#else
#define RECUR_SPIN_PAUSE() ((void)0)
#endif

namespace recur {

class alignas(64) SpinBarrier {
 public:
  explicit SpinBarrier(int threads = 1) noexcept : threads_(threads) {}
  SpinBarrier(const SpinBarrier&) = delete;
  SpinBarrier& operator=(const SpinBarrier&) = delete;

  void wait() noexcept {
    if (threads_ <= 1) return;
    const uint32_t gen = generation_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) == threads_ - 1) {
      arrived_.store(0, std::memory_order_relaxed);
      generation_.store(gen + 1, std::memory_order_seq_cst);
      if (sleepers_.load(std::memory_order_seq_cst) > 0) futex(FUTEX_WAKE_PRIVATE, INT_MAX);
      return;
    }
    for (uint32_t spins = 0; spins < kSpins; ++spins) {
      if (generation_.load(std::memory_order_acquire) != gen) return;
      RECUR_SPIN_PAUSE();
    }
    const int64_t t0 = now_ns();
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    while (generation_.load(std::memory_order_seq_cst) == gen) futex(FUTEX_WAIT_PRIVATE, gen);
    sleepers_.fetch_sub(1, std::memory_order_relaxed);
    note_wait(now_ns() - t0);  // a long one keeps teams small for a while (contention.hpp)
  }

 private:
  static constexpr uint32_t kSpins = 1024;  // pauses before sleeping (tens of microseconds)

  void futex(int op, uint32_t val) noexcept {
    static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t), "futex word");
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&generation_), op, val, nullptr, nullptr, 0);
  }

  const int threads_;
  alignas(64) std::atomic<int> arrived_{0};
  alignas(64) std::atomic<uint32_t> generation_{0};
  std::atomic<int> sleepers_{0};
};

}  // namespace recur
