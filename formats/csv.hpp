// A (rows, cols) float matrix as CSV text: one row per line, values separated by commas.
// Used for time-series inputs (rows = time steps T, cols = features F) and outputs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "recur/status.hpp"

namespace recur::csv {

struct Matrix {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<float> data;           // (rows, cols) row-major
  std::vector<std::string> header;   // column names when the first line was not numeric
};

// Whether the first non-blank line names the columns: `absent` (every line is data, so a word
// there is an error), `present` (it is the header, whatever it holds), or `detect` (a header
// when its fields are not all numbers: for files recur wrote itself).
enum class Header { absent, present, detect };

// Parse CSV text. Blank lines are skipped. Errors (bad_metadata, naming `name`, the line and
// the column): a field that is not a number, a row with a different number of fields, no data
// rows at all.
Result<Matrix> parse(const std::string& text, const std::string& name, Header header = Header::detect);
Result<Matrix> read(const std::string& path, Header header = Header::detect);

// Write with 9 significant digits (exact round trip for float), atomically.
// invalid_argument when data.size() != rows * cols or header has the wrong length.
Status write(const std::string& path, const Matrix& m);

}  // namespace recur::csv
