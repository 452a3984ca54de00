// Validates the oracle itself: the fp64 reference reproduces every golden fixture computed by
// PyTorch or onnxruntime within the fp32 tolerance (abs 1e-5 + rel 1e-4).
#include <doctest/doctest.h>

#include "tests/reference/compare.hpp"
#include "tests/reference/fixture.hpp"
#include "tests/reference/reference.hpp"

TEST_CASE("reference: golden fixtures exist") {
  CHECK(recur::test::golden_case_dirs().size() >= 30);
}

TEST_CASE("reference: reproduces every golden fixture (PyTorch and onnxruntime)") {
  int passed = 0;
  for (const std::string& dir : recur::test::golden_case_dirs()) {
    auto c = recur::test::load_golden_case(dir);
    REQUIRE_MESSAGE(c.ok(), c.status().to_string());
    CAPTURE(c->name);
    auto out = recur::reference::run(c->spec, c->input);
    REQUIRE_MESSAGE(out.ok(), out.status().to_string());
    CHECK(out->y_shape == c->y_shape);
    CHECK(out->h_shape == c->h_shape);
    CHECK(out->c_shape == c->c_shape);
    const std::string y = recur::test::compare_arrays(c->name + " y", out->y, c->y);
    const std::string h = recur::test::compare_arrays(c->name + " h_n", out->h_n, c->h_n);
    const std::string cn = recur::test::compare_arrays(c->name + " c_n", out->c_n, c->c_n);
    CHECK_MESSAGE(y.empty(), y);
    CHECK_MESSAGE(h.empty(), h);
    CHECK_MESSAGE(cn.empty(), cn);
    if (y.empty() && h.empty() && cn.empty()) ++passed;
  }
  MESSAGE("reference matched " << passed << " golden cases");
}
