// The contention state: the time of the last long wait.
#include "runtime/contention.hpp"

#include <atomic>
#include <chrono>

namespace recur {
namespace {

std::atomic<int64_t> g_last_long_wait{0};  // now_ns() of the last long wait; 0 = never
std::atomic<int64_t> g_last_probe{0};       // now_ns() of the last call let through to probe
std::atomic<bool> g_allowed{true};

}  // namespace

int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void note_wait(int64_t waited_ns) noexcept {
  if (waited_ns > kContendedWaitNs) g_last_long_wait.store(now_ns(), std::memory_order_relaxed);
}

void set_run_alone_allowed(bool allowed) noexcept { g_allowed.store(allowed, std::memory_order_relaxed); }

bool run_alone(int64_t work) noexcept {
  if (work >= kContendedMinWork || !g_allowed.load(std::memory_order_relaxed)) return false;
  const int64_t last = g_last_long_wait.load(std::memory_order_relaxed);
  if (last == 0) return false;
  const int64_t now = now_ns();
  if (now - last > kContendedForNs) return false;
  int64_t probed = g_last_probe.load(std::memory_order_relaxed);
  // One caller per interval gets its threads back, to see whether the waits are still long.
  return now - probed < kProbeEveryNs || !g_last_probe.compare_exchange_strong(probed, now, std::memory_order_relaxed);
}

}  // namespace recur
