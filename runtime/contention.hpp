// Whether this process's threads get CPUs when they need them. A thread that has started its
// share and then waits long for a CPU (the scheduler gave it to another process) makes every
// thread waiting on it wait too: a time slice, hundreds of times a step's work. For a while
// after such a wait, parallel loops and teams with little work run on one thread, probing now
// and then (one call per kProbeEveryNs still uses its threads) whether the machine has calmed
// down.
#pragma once

#include <cstdint>

namespace recur {

// A wait for another thread's share longer than this (it was preempted) is contention.
inline constexpr int64_t kContendedWaitNs = 200000;
// How long one such wait keeps the process in the contended state.
inline constexpr int64_t kContendedForNs = 2000000000;
// Work (multiply-adds) below which a contended process uses one thread: a preempted helper
// costs a time slice, which only a share this large can absorb.
inline constexpr int64_t kContendedMinWork = int64_t{1} << 25;
inline constexpr int64_t kProbeEveryNs = 1000000000;

// A wait for another thread's share, and how long it took (the waits that slept measure it).
void note_wait(int64_t waited_ns) noexcept;

// Whether a loop or team with `work` multiply-adds should run on one thread now.
bool run_alone(int64_t work) noexcept;

// Tests that must see every team whatever the machine's load (the TSan stage, where every wait
// is long) turn the gating off; on by default.
void set_run_alone_allowed(bool allowed) noexcept;

// A monotonic clock in nanoseconds.
int64_t now_ns() noexcept;

}  // namespace recur
