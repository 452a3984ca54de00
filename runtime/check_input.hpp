// Validation of caller-supplied arrays and sizes shared by run(), step() and State::set().
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "recur/status.hpp"

namespace recur {

// Upper bound on the elements of any buffer a call may size from its arguments (16 GiB of
// floats); beyond that, or on int64 overflow, the call fails with invalid_argument.
inline constexpr int64_t kMaxCallElements = int64_t{1} << 32;

// out = product of dims; invalid_argument naming `what` on overflow or above kMaxCallElements.
Status checked_elements(std::initializer_list<int64_t> dims, const std::string& what,
                        int64_t& out);

// non_finite naming `name` and the multi-index of the first NaN/Inf in the dense array of
// `shape` (row-major).
// Allocates only to build the error.
Status check_finite(const float* data, std::initializer_list<int64_t> shape, const char* name);

}  // namespace recur
