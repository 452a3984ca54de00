// The second half of `recur convert`, shared by the CLI and the Python package: the summary of a
// conversion, the staged write, and the self-check of the written file against the source's
// fp64 reference before it replaces the destination.
#pragma once

#include <functional>
#include <string>

#include "recur/status.hpp"
#include "tools/convert/convert.hpp"

namespace recur::convert {

struct CheckOptions {
  bool skip = false;   // write without the self-check
  double atol = 1e-5;  // |recur - reference| <= atol + rtol * |reference|, element by element
  double rtol = 1e-4;
};

// "source: SRC (format)", one line per layer, the notes and "summary: ..." (newline-terminated).
std::string conversion_summary(const std::string& source, const Conversion& conv);

// Writes conv.spec to a staged file next to `out`, loads it and runs it on a random input (T=7,
// B=2) against conv.reference, and only then renames it onto `out`: any failure leaves an
// existing `out` as it was, and the status says why. Returns the closing lines ("self-check: ...
// ok", what the self-check could not cover (Conversion::unchecked), "wrote OUT").
// `progress` (may be empty) gets a short line before the write and before the self-check.
Result<std::string> write_checked(const Conversion& conv, const std::string& out, const CheckOptions& check,
                                  const std::function<void(const std::string&)>& progress = {});

}  // namespace recur::convert
