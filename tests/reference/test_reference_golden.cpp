// Validates the oracle itself: the fp64 reference reproduces every golden fixture computed by
// PyTorch or onnxruntime within the fp32 tolerance (abs 1e-5 + rel 1e-4).
#include <doctest/doctest.h>

#include "tests/reference/fixture.hpp"
#include "tests/reference/golden_check.hpp"
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
    if (recur::test::check_golden_output(*c, *out)) ++passed;
  }
  MESSAGE("reference matched " << passed << " golden cases");
}
