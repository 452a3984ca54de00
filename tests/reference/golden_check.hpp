// One check of a model's output (runtime or fp64 reference) against a golden case: shapes and
// every value of y, h_n and c_n within the fp32 tolerance. Shared by the golden test suites.
#pragma once

#include <doctest/doctest.h>

#include <string>

#include "tests/reference/compare.hpp"
#include "tests/reference/fixture.hpp"

namespace recur::test {

// CHECKs the output against the case and returns whether everything matched.
template <class Output>
bool check_golden_output(const GoldenCase& c, const Output& out) {
  CHECK(out.y_shape == c.y_shape);
  CHECK(out.h_shape == c.h_shape);
  CHECK(out.c_shape == c.c_shape);
  const std::string y = compare_arrays(c.name + " y", out.y, c.y);
  const std::string h = compare_arrays(c.name + " h_n", out.h_n, c.h_n);
  const std::string cn = compare_arrays(c.name + " c_n", out.c_n, c.c_n);
  CHECK_MESSAGE(y.empty(), y);
  CHECK_MESSAGE(h.empty(), h);
  CHECK_MESSAGE(cn.empty(), cn);
  return out.y_shape == c.y_shape && out.h_shape == c.h_shape && out.c_shape == c.c_shape &&
         y.empty() && h.empty() && cn.empty();
}

}  // namespace recur::test
