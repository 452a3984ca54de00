// How a tensor shape is printed in messages: "(2, 3)"; join_dims for other separators ("2x3").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace recur {

inline std::string join_dims(const std::vector<int64_t>& shape, const char* sep) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? sep : "") + std::to_string(shape[i]);
  return s;
}
inline std::string shape_str(const std::vector<int64_t>& shape) { return "(" + join_dims(shape, ", ") + ")"; }

}  // namespace recur
