// Checked sizes and finite checks for caller inputs, with messages naming tensor and index.
#include "runtime/check_input.hpp"

#include <cmath>

namespace recur {

Status checked_elements(std::initializer_list<int64_t> dims, const std::string& what,
                        int64_t& out) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0 || __builtin_mul_overflow(n, d, &n) || n > kMaxCallElements) {
      return {Errc::invalid_argument, what + " would need more than " +
                                          std::to_string(kMaxCallElements) + " elements"};
    }
  }
  out = n;
  return {};
}

Status check_finite(const float* data, std::initializer_list<int64_t> shape_list, const char* name) {
  const int64_t* shape = shape_list.begin();
  int64_t n = 1;
  for (int64_t d : shape_list) n *= d;  // callers checked the product
  for (int64_t i = 0; i < n; ++i) {
    if (std::isfinite(data[i])) continue;
    // Row-major flat index -> multi-index.
    std::vector<int64_t> idx(shape_list.size());
    int64_t rest = i;
    for (size_t k = idx.size(); k-- > 0;) {
      idx[k] = rest % shape[k];
      rest /= shape[k];
    }
    std::string at = "[";
    for (size_t k = 0; k < idx.size(); ++k) at += (k ? ", " : "") + std::to_string(idx[k]);
    at += "]";
    return {Errc::non_finite, std::string(name) + " has a non-finite value (" +
                                  (std::isnan(data[i]) ? "NaN" : "Inf") + ") at " + at};
  }
  return {};
}

}  // namespace recur
