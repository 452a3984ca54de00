// A barrier for the threads of one group inside a persistent parallel region: the fused time
// loop waits on it once per step (twice for GRU without linear_before_reset). Spins with a
// pause (the wait is a few microseconds), yielding the CPU after a while so an oversubscribed
// machine still makes progress. A group of one never waits.
#pragma once

#include <sched.h>

#include <atomic>
#include <cstdint>

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
      generation_.store(gen + 1, std::memory_order_release);
      return;
    }
    for (uint32_t spins = 0; generation_.load(std::memory_order_acquire) == gen; ++spins) {
      if (spins < kSpinsBeforeYield) {
        RECUR_SPIN_PAUSE();
      } else {
        sched_yield();
      }
    }
  }

 private:
  static constexpr uint32_t kSpinsBeforeYield = 1u << 11;
  const int threads_;
  alignas(64) std::atomic<int> arrived_{0};
  alignas(64) std::atomic<uint32_t> generation_{0};
};

}  // namespace recur
