// run_contained (tools/convert/contained.hpp): a conversion that crashes in its child process is
// an error return, not the end of the caller; a normal one returns its own result.
#include <doctest/doctest.h>

#include <cstdlib>

#include "tools/convert/contained.hpp"

using recur::convert::run_contained;

TEST_CASE("run_contained: the child's result comes back") {
  CHECK(run_contained("ok.h5", [] { return 0; }) == 0);
  CHECK(run_contained("fails.h5", [] { return 3; }) == 3);
}

TEST_CASE("run_contained: a child that aborts or throws is an error, and this process goes on") {
  // abort() stands for the asserts and crashes inside libhdf5 on a crafted file.
  CHECK(run_contained("crash.h5", []() -> int { std::abort(); }) == 1);
  CHECK(run_contained("throws.h5", []() -> int { throw 42; }) == 1);
  CHECK(run_contained("after.h5", [] { return 0; }) == 0);
}
