// The thread count a call resolves to: the call's option, then RECUR_NUM_THREADS, then
// OMP_NUM_THREADS, then 1; environment values capped by the available CPUs, bad ones ignored.
// (The CLI's view of the same precedence, with real environments: tests/e2e/test_cli_ops.cpp.)
#include <doctest/doctest.h>

#include <cstdlib>

#include "runtime/parallel.hpp"

using recur::resolve_threads;

TEST_CASE("thread count: the call's option first, then RECUR_NUM_THREADS, OMP_NUM_THREADS, 1") {
  CHECK(resolve_threads(3, "5", "7", 8) == 3);
  CHECK(resolve_threads(6, nullptr, nullptr, 2) == 6);  // an explicit count is the caller's choice
  CHECK(resolve_threads(0, "5", "7", 8) == 5);
  CHECK(resolve_threads(0, nullptr, "7", 8) == 7);
  CHECK(resolve_threads(0, nullptr, "7,2", 8) == 7);  // one count per nesting level: the first
  CHECK(resolve_threads(0, nullptr, nullptr, 8) == recur::kDefaultThreads);
  CHECK(recur::kDefaultThreads == 1);
}

TEST_CASE("thread count: environment values are capped by the CPUs and bad ones ignored") {
  CHECK(resolve_threads(0, "16", nullptr, 2) == 2);
  CHECK(resolve_threads(0, nullptr, "16", 3) == 3);
  CHECK(resolve_threads(0, " 2 ", nullptr, 8) == 2);
  for (const char* bad : {"", "0", "-2", "abc", "4x", "2.5", "1025", "99999999999999999999", " "}) {
    CAPTURE(bad);
    CHECK(resolve_threads(0, bad, "3", 8) == 3);  // falls through to OMP_NUM_THREADS
    CHECK(resolve_threads(0, nullptr, bad, 8) == 1);
  }
}

TEST_CASE("thread count: RunOptions.threads = 0 follows this process's environment") {
  const int want = resolve_threads(0, std::getenv("RECUR_NUM_THREADS"), std::getenv("OMP_NUM_THREADS"),
                                   recur::available_cpus());
  CHECK(resolve_threads(0) == want);
  CHECK(resolve_threads(2) == 2);
}
