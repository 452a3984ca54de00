// parallel_for on the helper pool: every index exactly once in grain-aligned chunks, from many
// callers at once (the concurrency suite: TSan sees the pool's handoffs), and a call never
// waits for a helper that has not started (after fork() no helper exists at all).
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/contention.hpp"
#include "runtime/parallel.hpp"
#include "runtime/thread_pool.hpp"
#include "tools/convert/sanitizers.hpp"

using namespace recur;

namespace {

// parallel_for over [0, n): each index's count, and whether every chunk began on a grain.
struct Coverage {
  std::vector<std::atomic<int>> hits;
  std::atomic<bool> aligned{true};
  explicit Coverage(int64_t n) : hits(static_cast<size_t>(n)) {}
  bool once_each() const {
    for (const std::atomic<int>& h : hits) {
      if (h.load() != 1) return false;
    }
    return true;
  }
};

void cover(int threads, int64_t n, int64_t grain, Coverage& c) {
  parallel_for(threads, n, grain, kMinParallelWork, [&](int64_t b, int64_t e) {
    if (b % grain != 0 || (e != n && e % grain != 0)) c.aligned = false;
    for (int64_t i = b; i < e; ++i) c.hits[static_cast<size_t>(i)]++;
  });
}

}  // namespace

TEST_CASE("parallel_for: every index once, chunks on grain boundaries") {
  for (int threads : {1, 2, 3, 8}) {
    for (int64_t n : {1, 2, 7, 64, 1000}) {
      for (int64_t grain : {1, 3, 16}) {
        CAPTURE(threads);
        CAPTURE(n);
        CAPTURE(grain);
        Coverage c(n);
        cover(threads, n, grain, c);
        CHECK(c.once_each());
        CHECK(c.aligned);
      }
    }
  }
}

TEST_CASE("run_parts: each part once, whatever the helper count") {
  for (int helpers : {0, 1, 3, 100}) {
    CAPTURE(helpers);
    std::vector<std::atomic<int>> hits(64);
    auto part = [&](int64_t p) { hits[static_cast<size_t>(p)]++; };
    run_parts(helpers, 64, true, PartFn(part));
    for (const std::atomic<int>& h : hits) CHECK(h.load() == 1);
  }
}

TEST_CASE("parallel_for from many threads at once" * doctest::test_suite("concurrency")) {
  constexpr int kCallers = 16;
  std::vector<int> bad(kCallers, 0);
  std::vector<std::thread> callers;
  for (int t = 0; t < kCallers; ++t) {
    callers.emplace_back([&, t] {
      for (int rep = 0; rep < 50; ++rep) {
        const int64_t n = 1 + (t * 37 + rep * 11) % 300;
        Coverage c(n);
        cover(1 + (t + rep) % 4, n, 1 + rep % 5, c);
        if (!c.once_each() || !c.aligned) ++bad[static_cast<size_t>(t)];
      }
    });
  }
  for (std::thread& t : callers) t.join();
  for (int t = 0; t < kCallers; ++t) CHECK(bad[static_cast<size_t>(t)] == 0);
}

#if !defined(RECUR_TSAN)  // TSan does not support threads in a forked child
TEST_CASE("parallel_for never waits for a helper that has not started: after fork() none runs") {
  Coverage warm(1000);
  cover(4, 1000, 1, warm);  // the pool has helpers now, idle
  REQUIRE(warm.once_each());
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // The child has only this thread: its helpers are taken but never run.
    int ok = 0;
    for (int rep = 0; rep < 3; ++rep) {
      Coverage c(1000);
      cover(4, 1000, 1, c);
      ok += c.once_each() ? 1 : 0;
    }
    _exit(ok == 3 ? 0 : 1);
  }
  int status = 0;
  for (int i = 0; i < 200 && waitpid(pid, &status, WNOHANG) == 0; ++i) usleep(50000);  // 10 s
  if (waitpid(pid, &status, WNOHANG) == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    FAIL("the child's parallel_for hung waiting for helpers that do not exist");
  }
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
#endif

TEST_CASE("contention: after a long wait, small loops run on the caller alone (one probe per interval)") {
  note_wait(kContendedWaitNs + 1);  // as if a helper had been preempted
  // parallel_for asks run_alone once per call: of 64 quick calls, at most one probes with its
  // helpers (8 parts); the others take the serial route (one chunk).
  int on_caller_only = 0;
  for (int i = 0; i < 64; ++i) {
    const std::thread::id caller = std::this_thread::get_id();
    int chunks = 0;
    bool elsewhere = false;
    std::mutex m;
    parallel_for(2, 64, 1, kMinParallelWork, [&](int64_t, int64_t) {
      std::lock_guard<std::mutex> lock(m);
      ++chunks;
      if (std::this_thread::get_id() != caller) elsewhere = true;
    });
    on_caller_only += chunks == 1 && !elsewhere ? 1 : 0;
  }
  CHECK(on_caller_only >= 63);
  CHECK_FALSE(run_alone(kContendedMinWork));  // large work keeps its threads
  set_run_alone_allowed(false);
  CHECK_FALSE(run_alone(kMinParallelWork));
  set_run_alone_allowed(true);
  CHECK(run_alone(kMinParallelWork));
  note_wait(kContendedWaitNs - 1);  // a short wait neither starts nor ends the state
  CHECK(run_alone(kMinParallelWork));
  std::this_thread::sleep_for(std::chrono::nanoseconds(kProbeEveryNs + 1000000));
  CHECK_FALSE(run_alone(kMinParallelWork));  // a probe
  CHECK(run_alone(kMinParallelWork));
  std::this_thread::sleep_for(std::chrono::nanoseconds(kContendedForNs));
  for (int i = 0; i < 32; ++i) CHECK_FALSE(run_alone(kMinParallelWork));  // calm again
}
