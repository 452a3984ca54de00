// CSV matrix reader/writer: strict number parsing (strtof must consume the whole field).
#include "formats/csv.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "formats/atomic_file.hpp"
#include "formats/checked.hpp"

namespace recur::csv {
namespace {

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    out.push_back(line.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

bool parse_float(const std::string& field, float& out) {
  const std::string f = trim(field);
  if (f.empty()) return false;
  errno = 0;
  char* end = nullptr;
  out = std::strtof(f.c_str(), &end);
  return end == f.c_str() + f.size() && errno != ERANGE;
}

}  // namespace

Result<Matrix> parse(const std::string& text, const std::string& name, Header header) {
  Matrix m;
  std::istringstream in(text);
  std::string line;
  int64_t line_no = 0;
  bool first = true;
  while (std::getline(in, line)) {
    ++line_no;
    if (trim(line).empty()) continue;
    const std::vector<std::string> fields = split_fields(line);
    std::vector<float> row(fields.size());
    size_t bad = fields.size();
    for (size_t c = 0; c < fields.size(); ++c) {
      if (!parse_float(fields[c], row[c])) {
        bad = c;
        break;
      }
    }
    if (first && (header == Header::present || (header == Header::detect && bad < fields.size()))) {
      for (const std::string& f : fields) m.header.push_back(trim(f));
      m.cols = static_cast<int64_t>(fields.size());
      first = false;
      continue;
    }
    if (bad < fields.size()) {
      return Status(Errc::bad_metadata, name + ": line " + std::to_string(line_no) + " column " +
                                            std::to_string(bad + 1) + ": '" + trim(fields[bad]) +
                                            "' is not a number" +
                                            (first && header == Header::absent
                                                 ? std::string(" (if this line is a header, declare it: recur run --header)")
                                                 : std::string()));
    }
    if (m.cols == 0) m.cols = static_cast<int64_t>(fields.size());
    if (static_cast<int64_t>(fields.size()) != m.cols) {
      return Status(Errc::bad_metadata, name + ": line " + std::to_string(line_no) + " has " +
                                            std::to_string(fields.size()) + " fields, expected " +
                                            std::to_string(m.cols));
    }
    first = false;
    m.data.insert(m.data.end(), row.begin(), row.end());
    ++m.rows;
  }
  if (m.rows == 0) return Status(Errc::bad_metadata, name + ": no data rows");
  return m;
}

Result<Matrix> read(const std::string& path, Header header) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status(Errc::io, path + ": cannot open");
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) return Status(Errc::io, path + ": read failed");
  return parse(ss.str(), path, header);
}

Status write(const std::string& path, const Matrix& m) {
  int64_t n = 0;
  if (m.rows < 0 || m.cols < 0 || !checked::mul(m.rows, m.cols, n) ||
      static_cast<uint64_t>(n) != m.data.size()) {
    return {Errc::invalid_argument, path + ": matrix (" + std::to_string(m.rows) + ", " +
                                        std::to_string(m.cols) + ") does not match " +
                                        std::to_string(m.data.size()) + " values"};
  }
  if (!m.header.empty() && static_cast<int64_t>(m.header.size()) != m.cols) {
    return {Errc::invalid_argument, path + ": header has " + std::to_string(m.header.size()) +
                                        " names for " + std::to_string(m.cols) + " columns"};
  }
  std::string text;
  for (size_t c = 0; c < m.header.size(); ++c) text += (c ? "," : "") + m.header[c];
  if (!m.header.empty()) text += "\n";
  char buf[32];
  for (int64_t r = 0; r < m.rows; ++r) {
    for (int64_t c = 0; c < m.cols; ++c) {
      std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(m.data[static_cast<size_t>(r * m.cols + c)]));
      if (c) text += ",";
      text += buf;
    }
    text += "\n";
  }
  return write_file_atomic(path, reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

}  // namespace recur::csv
