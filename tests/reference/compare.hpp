// Tolerance checks between a result under test (fp32) and an expected array (fp32 fixture or
// fp64 reference): |got - want| <= abs + rel * |want| element by element, the fp32 contract.
#pragma once

#include <cmath>
#include <cstdio>
#include <cstdint>
#include <string>
#include <vector>

namespace recur::test {

inline constexpr double kAbsTol = 1e-5;
inline constexpr double kRelTol = 1e-4;

inline std::string format_number(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// Empty when every element is within tolerance (and the sizes match); otherwise a message with
// the number of bad elements and the worst one, naming `what`.
template <class Got, class Want>
std::string compare_arrays(const std::string& what, const std::vector<Got>& got,
                           const std::vector<Want>& want, double abs_tol = kAbsTol,
                           double rel_tol = kRelTol) {
  if (got.size() != want.size()) {
    return what + ": size " + std::to_string(got.size()) + ", expected " + std::to_string(want.size());
  }
  size_t bad = 0, worst = 0;
  double worst_excess = -1.0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double g = static_cast<double>(got[i]);
    const double w = static_cast<double>(want[i]);
    const double limit = abs_tol + rel_tol * std::fabs(w);
    const double err = std::fabs(g - w);
    if (!(err <= limit)) {  // NaN counts as bad
      ++bad;
      const double excess = std::isnan(err) ? 1e300 : err / limit;
      if (excess > worst_excess) {
        worst_excess = excess;
        worst = i;
      }
    }
  }
  if (bad == 0) return "";
  return what + ": " + std::to_string(bad) + " of " + std::to_string(got.size()) +
         " elements out of tolerance; worst at flat index " + std::to_string(worst) + ": got " +
         format_number(static_cast<double>(got[worst])) + ", expected " +
         format_number(static_cast<double>(want[worst])) + " (|diff| " +
         format_number(std::fabs(static_cast<double>(got[worst]) - static_cast<double>(want[worst]))) + ")";
}

}  // namespace recur::test
