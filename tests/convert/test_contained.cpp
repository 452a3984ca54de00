// run_contained (tools/convert/contained.hpp): a conversion that crashes in its child process is
// an error return, not the end of the caller; a normal one returns its own result; a blocked one
// ends at its wall-clock cap, and none outlives its parent.
#include <doctest/doctest.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "tools/convert/contained.hpp"

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

#if !defined(__SANITIZE_ADDRESS__)
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

TEST_CASE("run_contained: a child blocked past its wall-clock cap is stopped") {
  // A read that never returns (a FIFO with no writer, opened by libhdf5) stands as pause().
  ContainLimits limits;
  limits.max_wall_seconds = 1;
  const auto start = std::chrono::steady_clock::now();
  const int rc = recur::convert::run_contained("blocked.h5", limits, []() -> int {
    ::pause();
    return 0;
  });
  CHECK(rc == 1);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(30));
}

TEST_CASE("run_contained: the child dies with the process that started it") {
  // This test process adopts orphans, so the grandchild can be waited for here.
  REQUIRE(::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t middle = ::fork();
  REQUIRE(middle >= 0);
  if (middle == 0) {  // stands for `recur convert`, killed while its contained child runs
    recur::convert::run_contained("orphan.h5", ContainLimits{}, [&]() -> int {
      const pid_t self = ::getpid();
      if (::write(fds[1], &self, sizeof self) != sizeof self) return 1;
      ::pause();
      return 0;
    });
    ::_exit(0);
  }
  pid_t child = 0;
  REQUIRE(::read(fds[0], &child, sizeof child) == sizeof child);
  ::kill(middle, SIGKILL);
  ::waitpid(middle, nullptr, 0);
  // The contained child gets SIGKILL from PR_SET_PDEATHSIG and is reaped here.
  int status = 0;
  pid_t got = 0;
  for (int i = 0; i < 300 && got == 0; ++i) {
    got = ::waitpid(child, &status, WNOHANG);
    if (got == 0) ::usleep(100000);
  }
  if (got == 0) ::kill(child, SIGKILL), ::waitpid(child, nullptr, 0);
  CHECK(got == child);
  CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  ::close(fds[0]);
  ::close(fds[1]);
}
