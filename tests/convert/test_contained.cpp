// run_contained (tools/convert/contained.hpp): a conversion that crashes in its child process is
// an error return, not the end of the caller; a normal one returns its own result.
#include <doctest/doctest.h>

#include <csignal>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "tools/convert/contained.hpp"
#include "tools/convert/sanitizers.hpp"

using recur::convert::ContainLimits;

namespace {
int run_contained(const std::string& what, const std::function<int()>& body) {
  return recur::convert::run_contained(what, ContainLimits{}, body);
}
}  // namespace

TEST_CASE("run_contained: the child's result comes back") {
  CHECK(run_contained("ok.h5", [] { return 0; }) == 0);
  CHECK(run_contained("fails.h5", [] { return 3; }) == 3);
}

TEST_CASE("run_contained: a child that aborts or throws is an error, and this process goes on") {
  // abort() stands for the asserts and crashes inside libhdf5 on a crafted file.
  // (The child inherits doctest's SIGABRT handler, which would report a crash of its own.)
  CHECK(run_contained("crash.h5", []() -> int {
          std::signal(SIGABRT, SIG_DFL);
          std::abort();
        }) == 1);
  CHECK(run_contained("throws.h5", []() -> int { throw 42; }) == 1);
  CHECK(run_contained("after.h5", [] { return 0; }) == 0);
}

#if !defined(RECUR_ASAN) && !defined(RECUR_TSAN)
TEST_CASE("run_contained: a child that allocates without bound stops at its memory cap") {
  ContainLimits limits;
  limits.max_memory_bytes = 256ull << 20;
  const int rc = recur::convert::run_contained("greedy.h5", limits, []() -> int {
    std::vector<std::vector<char>> hog;
    for (int i = 0; i < 64; ++i) hog.emplace_back(64u << 20, 'x');  // 4 GiB if nothing stopped it
    return 0;
  });
  CHECK(rc == 1);
}
#endif
