// Helpers shared by the importers: row/column slicing, gate-block reordering,
// file reading with a size cap, and the final naming + validation of a converted spec.
#include "tools/convert/util.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>

namespace recur::convert {

Status expect_shape(const Tensor& t, const std::vector<int64_t>& shape, const std::string& what) {
  if (t.shape != shape)
    return fail(Errc::invalid_model,
                cat(what, " has shape ", shape_str(t.shape), ", expected ", shape_str(shape)));
  return Status::Ok();
}

Tensor slice_rows(const Tensor& t, int64_t row0, int64_t rows) {
  int64_t width = t.shape.size() == 2 ? t.shape[1] : 1;
  Tensor out;
  out.shape = t.shape;
  out.shape[0] = rows;
  out.data.assign(t.data.begin() + row0 * width, t.data.begin() + (row0 + rows) * width);
  return out;
}

Tensor slice_cols(const Tensor& t, int64_t col0, int64_t cols) {
  Tensor out;
  out.shape = {t.shape[0], cols};
  out.data.resize(static_cast<size_t>(t.shape[0] * cols));
  for (int64_t r = 0; r < t.shape[0]; ++r)
    for (int64_t c = 0; c < cols; ++c) out.data[r * cols + c] = t.data[r * t.shape[1] + col0 + c];
  return out;
}

Tensor transpose2d(const Tensor& t) {
  Tensor out;
  out.shape = {t.shape[1], t.shape[0]};
  out.data.resize(t.data.size());
  for (int64_t r = 0; r < t.shape[0]; ++r)
    for (int64_t c = 0; c < t.shape[1]; ++c) out.data[c * t.shape[0] + r] = t.data[r * t.shape[1] + c];
  return out;
}

Tensor concat_rows(const std::vector<Tensor>& parts) {
  Tensor out;
  out.shape = parts.front().shape;
  out.shape[0] = 0;
  for (const Tensor& p : parts) {
    out.shape[0] += p.shape[0];
    out.data.insert(out.data.end(), p.data.begin(), p.data.end());
  }
  return out;
}

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = a;
  for (size_t i = 0; i < out.data.size(); ++i) out.data[i] += b.data[i];
  return out;
}

Tensor reorder_gates(const Tensor& t, int64_t H, const std::string& from, const std::string& to) {
  std::vector<Tensor> blocks;
  for (char gate : to) blocks.push_back(slice_rows(t, static_cast<int64_t>(from.find(gate)) * H, H));
  return concat_rows(blocks);
}

namespace {

// "a directory", "a FIFO", ... for messages.
const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

}  // namespace

Status check_regular_file(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return fail(Errc::io, cat(path, ": cannot open (", std::strerror(errno), ")"));
  if (!S_ISREG(st.st_mode))
    return fail(Errc::io, cat(path, ": is ", file_kind(st.st_mode), "; only regular files are read"));
  return Status::Ok();
}

namespace {

// An fd of a regular file at `path` and its size. O_NONBLOCK: opening a FIFO must not wait for
// a writer; fstat then refuses it.
Result<int> open_regular(const std::string& path, uint64_t& size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return fail(Errc::io, cat(path, ": cannot open (", std::strerror(errno), ")"));
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const mode_t mode = st.st_mode;
    ::close(fd);
    return fail(Errc::io, cat(path, ": is ", file_kind(mode), "; only regular files are read"));
  }
  size = static_cast<uint64_t>(st.st_size);
  return fd;
}

Result<std::vector<uint8_t>> pread_all(int fd, const std::string& path, uint64_t offset, uint64_t length) {
  std::vector<uint8_t> bytes(static_cast<size_t>(length));
  size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t r = ::pread(fd, bytes.data() + got, bytes.size() - got, static_cast<off_t>(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  ::close(fd);
  if (got != bytes.size()) return fail(Errc::io, cat(path, ": short read"));
  return bytes;
}

}  // namespace

Result<uint64_t> regular_file_size(const std::string& path) {
  uint64_t size = 0;
  auto fd = open_regular(path, size);
  if (!fd.ok()) return fd.status();
  ::close(*fd);
  return size;
}

Result<std::vector<uint8_t>> read_file_range(const std::string& path, uint64_t offset, uint64_t length) {
  uint64_t size = 0;
  auto fd = open_regular(path, size);
  if (!fd.ok()) return fd.status();
  return pread_all(*fd, path, offset, length);
}

Result<std::vector<uint8_t>> read_file_bytes(const std::string& path, uint64_t max_bytes) {
  uint64_t size = 0;
  auto fd = open_regular(path, size);
  if (!fd.ok()) return fd.status();
  if (size > max_bytes) {
    ::close(*fd);
    return fail(Errc::unsupported, cat(path, ": file size ", size, " is above the limit ", max_bytes));
  }
  return pread_all(*fd, path, 0, size);
}

std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string file_stem(const std::string& path) {
  size_t slash = path.find_last_of('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  size_t dot = base.find_last_of('.');
  return dot == std::string::npos || dot == 0 ? base : base.substr(0, dot);
}

std::string parent_dir(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status finish_spec(ModelSpec& spec, const std::string& path, const std::string& name) {
  spec.name = name.empty() ? file_stem(path) : name;
  spec.producer = "recur-convert 0.1";
  size_t slash = path.find_last_of('/');
  spec.source = slash == std::string::npos ? path : path.substr(slash + 1);
  auto bytes = read_file_bytes(path);
  if (bytes.ok()) {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx",
                  static_cast<unsigned long long>(XXH64(bytes->data(), bytes->size(), 0)));
    spec.source_hash = hex;
  }
  Status s = validate(spec, /*check_finite=*/true);
  if (!s.ok()) return s.with_context("converted model is not valid");
  return Status::Ok();
}

std::string describe_layer(const RecurrentLayer& layer, size_t index) {
  std::ostringstream os;
  os << "layer " << index << ": " << cell_name(layer.cell) << " " << direction_name(layer.direction)
     << " input " << layer.input_size << " hidden " << layer.hidden_size;
  if (layer.proj_size > 0) os << " proj " << layer.proj_size;
  if (layer.cell == CellType::gru) os << " linear_before_reset " << (layer.linear_before_reset ? 1 : 0);
  if (layer.clip > 0) os << " clip " << layer.clip;
  if (layer.input_forget) os << " input_forget";
  if (layer.peepholes) os << " peepholes";
  if (!layer.activations.empty()) {
    os << " activations";
    for (const auto& a : layer.activations) os << " " << a.name;
  }
  return os.str();
}

std::string describe_head(const DenseHead& head) {
  std::ostringstream os;
  os << "head: dense " << head.input_size << " -> " << head.output_size
     << (head.softmax ? " + softmax" : "") << (head.last_step_only ? " (last step only)" : " (every step)");
  return os.str();
}

}  // namespace recur::convert
