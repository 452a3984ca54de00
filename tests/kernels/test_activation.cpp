// Vectorized sigmoid/tanh of every ISA against fp64: maximum error in ULP over a dense sweep of
// [-30, 30] plus the edges, exact saturation to 0 / ±1, and NaN propagation.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/recurrent.hpp"
#include "tests/kernels/recurrent_helpers.hpp"

using namespace recur::kernels;

namespace {

// ULPs between float `got` and the exact value `want` (in units of the float spacing at want).
double ulp_error(float got, double want) {
  const float wf = static_cast<float>(want);
  const float next = std::nextafter(std::fabs(wf), std::numeric_limits<float>::infinity());
  const double ulp = static_cast<double>(next) - std::fabs(static_cast<double>(wf));
  return std::fabs(static_cast<double>(got) - want) / ulp;
}

struct Sweep {
  std::vector<float> x;
  Sweep() {
    // Every float in [-30, 30] on a fine grid, plus a band around 0 on a log grid.
    for (double v = -30.0; v <= 30.0; v += 1.0 / 4096.0) x.push_back(static_cast<float>(v));
    for (double v = 1e-30; v < 1.0; v *= 1.01) {
      x.push_back(static_cast<float>(v));
      x.push_back(static_cast<float>(-v));
    }
  }
};

void measure(const char* isa, const char* fn, ActivationFn f, double (*exact)(double),
             double max_ulp) {
  static const Sweep sweep;
  std::vector<float> y(sweep.x.size());
  f(static_cast<int64_t>(sweep.x.size()), sweep.x.data(), y.data());
  double worst = 0.0;
  float worst_x = 0.0f;
  for (size_t i = 0; i < y.size(); ++i) {
    const double want = exact(static_cast<double>(sweep.x[i]));
    if (std::fabs(want) < std::numeric_limits<float>::min()) continue;  // below FLT_MIN: FTZ range
    const double e = ulp_error(y[i], want);
    if (e > worst) {
      worst = e;
      worst_x = sweep.x[i];
    }
  }
  std::ostringstream msg;
  msg << isa << " " << fn << ": max error " << worst << " ULP (at x = " << worst_x << ") over "
      << y.size() << " points";
  MESSAGE(msg.str());
  CHECK(worst <= max_ulp);
}

double sigmoid64(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double tanh64(double x) { return std::tanh(x); }

}  // namespace

TEST_CASE("kernels: vectorized sigmoid and tanh within a few ULP of fp64, exact edges") {
  for (const testing::IsaCase& c : testing::isas()) {
    if (!c.available) {
      MESSAGE("skipping " << c.name << ": not supported by this CPU");
      continue;
    }
    measure(c.name, "sigmoid", c.k->sigmoid, sigmoid64, 4.0);
    measure(c.name, "tanh", c.k->tanh, tanh64, 4.0);

    const float inf = std::numeric_limits<float>::infinity();
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const std::vector<float> x = {inf, -inf, 17.0f, 40.0f, 1e30f, -88.0f, -100.0f, -1e30f,
                                  9.1f, -9.1f, 50.0f, -50.0f, nan, 0.0f, 1.0f, 2.0f, 3.0f};
    std::vector<float> s(x.size()), t(x.size());
    c.k->sigmoid(static_cast<int64_t>(x.size()), x.data(), s.data());
    c.k->tanh(static_cast<int64_t>(x.size()), x.data(), t.data());
    CAPTURE(c.name);
    CHECK(s[0] == 1.0f); CHECK(s[1] == 0.0f); CHECK(s[2] == 1.0f); CHECK(s[3] == 1.0f);
    CHECK(s[4] == 1.0f); CHECK(s[5] >= 0.0f); CHECK(s[6] == 0.0f); CHECK(s[7] == 0.0f);
    CHECK(t[0] == 1.0f); CHECK(t[1] == -1.0f); CHECK(t[8] == 1.0f); CHECK(t[9] == -1.0f);
    CHECK(t[10] == 1.0f); CHECK(t[11] == -1.0f); CHECK(t[3] == 1.0f); CHECK(t[7] == -1.0f);
    CHECK(std::isnan(s[12])); CHECK(std::isnan(t[12]));
    CHECK(s[13] == 0.5f); CHECK(t[13] == 0.0f);
    // Odd symmetry of tanh and 1 - sigmoid(x) = sigmoid(-x) up to rounding.
    std::vector<float> neg(x.size()), tn(x.size());
    for (size_t i = 0; i < x.size(); ++i) neg[i] = -x[i];
    c.k->tanh(static_cast<int64_t>(x.size()), neg.data(), tn.data());
    for (size_t i = 0; i < x.size(); ++i) {
      if (!std::isnan(x[i])) CHECK(tn[i] == -t[i]);
    }
  }
}
