// The .npy reader and writer. Layout of a .npy file (numpy's NEP 1):
//   "\x93NUMPY" | major u8 | minor u8 | header_len (u16 LE in 1.0, u32 LE in 2.0/3.0) |
//   header: a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
//   padded with spaces and ending in '\n' (ASCII in 1.0/2.0, UTF-8 in 3.0) | raw data.
// The dict is parsed by a small strict parser: exactly these three keys, each once.
#include "formats/npy.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "formats/atomic_file.hpp"
#include "formats/checked.hpp"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the .npy reader assumes a little-endian host");

namespace recur::npy {
namespace {

constexpr char kMagic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};
constexpr size_t kMagicSize = 6;
constexpr size_t kPreludeV1 = 10;  // magic + version + u16 header_len
constexpr size_t kPreludeV2 = 12;  // magic + version + u32 header_len
constexpr size_t kHeaderAlign = 64;

// The element types we accept and how to widen them.
enum class Kind { f4, f8, i4, i8, u1, b1 };
struct Dtype {
  Kind kind;
  size_t itemsize;
};

bool dtype_from_descr(const std::string& d, Dtype& out) {
  if (d == "<f4") out = {Kind::f4, 4};
  else if (d == "<f8") out = {Kind::f8, 8};
  else if (d == "<i4") out = {Kind::i4, 4};
  else if (d == "<i8") out = {Kind::i8, 8};
  else if (d == "|u1" || d == "<u1") out = {Kind::u1, 1};
  else if (d == "|b1" || d == "<b1") out = {Kind::b1, 1};
  else return false;
  return true;
}

// A cursor over the header text with the few token readers the dict needs.
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& name) : s_(text), name_(name) {}

  Status parse(std::string& descr, bool& fortran, std::vector<int64_t>& shape) {
    bool have_descr = false, have_fortran = false, have_shape = false;
    skip_ws();
    if (!eat('{')) return error("expected '{' at the start of the header dict");
    skip_ws();
    while (!peek('}')) {
      std::string key;
      RECUR_TRY(string_literal(key));
      skip_ws();
      if (!eat(':')) return error("expected ':' after key '" + key + "'");
      skip_ws();
      if (key == "descr") {
        if (have_descr) return error("duplicate key 'descr'");
        have_descr = true;
        if (peek('[')) {
          return {Errc::unsupported, name_ + ": structured dtypes are not supported (descr is a list)"};
        }
        RECUR_TRY(string_literal(descr));
      } else if (key == "fortran_order") {
        if (have_fortran) return error("duplicate key 'fortran_order'");
        have_fortran = true;
        RECUR_TRY(boolean(fortran));
      } else if (key == "shape") {
        if (have_shape) return error("duplicate key 'shape'");
        have_shape = true;
        RECUR_TRY(tuple(shape));
      } else {
        return error("unknown key '" + key + "' in the header dict");
      }
      skip_ws();
      if (eat(',')) {
        skip_ws();
        continue;
      }
      if (!peek('}')) return error("expected ',' or '}' after the value of '" + key + "'");
    }
    eat('}');
    skip_ws();
    if (pos_ != s_.size()) return error("unexpected text after the header dict");
    if (!have_descr) return error("the header dict lacks 'descr'");
    if (!have_fortran) return error("the header dict lacks 'fortran_order'");
    if (!have_shape) return error("the header dict lacks 'shape'");
    return {};
  }

 private:
  Status error(const std::string& what) const {
    return {Errc::bad_metadata, name_ + ": .npy header: " + what + " (at character " +
                                    std::to_string(pos_) + ")"};
  }
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n')) ++pos_;
  }
  bool peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  bool eat(char c) {
    if (!peek(c)) return false;
    ++pos_;
    return true;
  }
  bool eat_word(const char* w) {
    const size_t n = std::strlen(w);
    if (s_.compare(pos_, n, w) != 0) return false;
    pos_ += n;
    return true;
  }
  // 'text' or "text"; no escapes (numpy never writes them in these fields).
  Status string_literal(std::string& out) {
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) {
      return error("expected a quoted string");
    }
    const char quote = s_[pos_++];
    const size_t end = s_.find(quote, pos_);
    if (end == std::string::npos) return error("unterminated string");
    out = s_.substr(pos_, end - pos_);
    if (out.find('\\') != std::string::npos) return error("escapes in strings are not supported");
    pos_ = end + 1;
    return {};
  }
  Status boolean(bool& out) {
    if (eat_word("True")) out = true;
    else if (eat_word("False")) out = false;
    else return error("expected True or False");
    return {};
  }
  Status integer(int64_t& out) {
    if (pos_ >= s_.size() || s_[pos_] < '0' || s_[pos_] > '9') {
      return error("expected a non-negative integer dimension");
    }
    int64_t v = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      if (!checked::mul(v, int64_t{10}, v) ||
          __builtin_add_overflow(v, static_cast<int64_t>(s_[pos_] - '0'), &v)) {
        return error("a dimension overflows int64");
      }
      ++pos_;
    }
    out = v;
    return {};
  }
  // (), (n,), (n, m), (n, m,) — a one-element tuple needs its trailing comma, as in Python.
  Status tuple(std::vector<int64_t>& out) {
    out.clear();
    if (!eat('(')) return error("expected '(' to open the shape tuple");
    skip_ws();
    bool trailing_comma = false;
    while (!peek(')')) {
      int64_t d = 0;
      RECUR_TRY(integer(d));
      out.push_back(d);
      skip_ws();
      trailing_comma = eat(',');
      skip_ws();
      if (!trailing_comma && !peek(')')) return error("expected ',' or ')' in the shape tuple");
    }
    eat(')');
    if (out.size() == 1 && !trailing_comma) {
      return error("shape '(n)' is an integer, not a tuple; expected '(n,)'");
    }
    return {};
  }

  const std::string& s_;
  const std::string& name_;
  size_t pos_ = 0;
};

uint16_t load_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t load_u32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) s += ",";
  return s + ")";
}

}  // namespace

Result<Array> parse(const uint8_t* data, size_t size, const std::string& name) {
  if (size == 0) return Status(Errc::truncated, name + ": the file is empty");
  if (size < kMagicSize || std::memcmp(data, kMagic, kMagicSize) != 0) {
    if (size > 0 && size < kMagicSize && std::memcmp(data, kMagic, size) == 0) {
      return Status(Errc::truncated, name + ": the file ends inside the .npy magic");
    }
    return Status(Errc::bad_magic, name + ": not a .npy file (magic \\x93NUMPY missing)");
  }
  if (size < kMagicSize + 2) return Status(Errc::truncated, name + ": the file ends before the version");
  const unsigned major = data[6], minor = data[7];
  if (major < 1 || major > 3 || minor != 0) {
    return Status(Errc::unsupported, name + ": .npy format version " + std::to_string(major) + "." +
                                         std::to_string(minor) + " (supported: 1.0, 2.0, 3.0)");
  }
  const size_t prelude = major == 1 ? kPreludeV1 : kPreludeV2;
  if (size < prelude) return Status(Errc::truncated, name + ": the file ends before the header length");
  const uint64_t header_len = major == 1 ? load_u16(data + 8) : load_u32(data + 8);
  uint64_t data_start = 0;
  if (!checked::add(prelude, header_len, data_start) || data_start > size) {
    return Status(Errc::truncated, name + ": the header declares " + std::to_string(header_len) +
                                       " bytes but the file has only " +
                                       std::to_string(size - prelude) + " after the prelude");
  }
  if (header_len == 0) return Status(Errc::bad_metadata, name + ": the .npy header is empty");
  const std::string header(reinterpret_cast<const char*>(data + prelude), header_len);
  if (header.back() != '\n') {
    return Status(Errc::bad_metadata, name + ": the .npy header does not end with a newline");
  }
  for (unsigned char c : header) {
    // 1.0 and 2.0 headers are ASCII; 3.0 allows UTF-8, which our three keys never need.
    if (c == 0 || (c >= 0x80 && major < 3)) {
      return Status(Errc::bad_metadata, name + ": the .npy header has a non-ASCII or NUL byte");
    }
  }

  std::string descr;
  bool fortran = false;
  Array out;
  RECUR_TRY(HeaderParser(header, name).parse(descr, fortran, out.shape));
  Dtype dtype{};
  if (!dtype_from_descr(descr, dtype)) {
    const bool big = !descr.empty() && descr[0] == '>';
    return Status(Errc::unsupported,
                  name + ": dtype '" + descr + "' is not supported" +
                      (big ? " (big-endian)" : "") + "; expected <f4, <f8, <i4, <i8, |u1 or |b1");
  }
  if (fortran) {
    return Status(Errc::unsupported, name + ": fortran_order True is not supported (C order only)");
  }
  int64_t numel = 0;
  if (!checked::product(out.shape, numel)) {
    return Status(Errc::bad_metadata, name + ": shape " + shape_text(out.shape) + " overflows int64");
  }
  uint64_t nbytes = 0;
  if (!checked::mul(static_cast<uint64_t>(numel), static_cast<uint64_t>(dtype.itemsize), nbytes)) {
    return Status(Errc::bad_metadata, name + ": shape " + shape_text(out.shape) +
                                          " times the item size overflows");
  }
  const uint64_t available = size - data_start;
  if (available < nbytes) {
    return Status(Errc::truncated, name + ": shape " + shape_text(out.shape) + " of " + descr +
                                       " needs " + std::to_string(nbytes) + " data bytes, the file has " +
                                       std::to_string(available));
  }
  if (available > nbytes) {
    return Status(Errc::bad_metadata, name + ": " + std::to_string(available - nbytes) +
                                          " bytes follow the data of shape " + shape_text(out.shape));
  }

  out.descr = descr;
  const uint8_t* p = data + data_start;
  const size_t n = static_cast<size_t>(numel);
  switch (dtype.kind) {
    case Kind::f4:
      out.f32.resize(n);
      if (n) std::memcpy(out.f32.data(), p, n * 4);
      break;
    case Kind::f8:
      out.f32.resize(n);
      for (size_t i = 0; i < n; ++i) {
        double v;
        std::memcpy(&v, p + i * 8, 8);
        out.f32[i] = static_cast<float>(v);
      }
      break;
    case Kind::i4:
      out.integer = true;
      out.i64.resize(n);
      for (size_t i = 0; i < n; ++i) {
        int32_t v;
        std::memcpy(&v, p + i * 4, 4);
        out.i64[i] = v;
      }
      break;
    case Kind::i8:
      out.integer = true;
      out.i64.resize(n);
      if (n) std::memcpy(out.i64.data(), p, n * 8);
      break;
    case Kind::u1:
      out.integer = true;
      out.i64.assign(p, p + n);
      break;
    case Kind::b1:
      out.integer = true;
      out.i64.resize(n);
      for (size_t i = 0; i < n; ++i) {
        if (p[i] > 1) {
          return Status(Errc::bad_metadata, name + ": boolean element " + std::to_string(i) +
                                                " is " + std::to_string(p[i]) + ", not 0 or 1");
        }
        out.i64[i] = p[i];
      }
      break;
  }
  return out;
}

Result<Array> read(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status(Errc::io, path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status(Errc::io, path + ": not a regular file");
  }
  std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + got, bytes.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return Status(Errc::io, path + ": read failed: " + std::strerror(err));
    }
    if (n == 0) break;  // shrank while we read: parse() reports what is missing
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  bytes.resize(got);
  return parse(bytes.data(), bytes.size(), path);
}

Result<std::vector<uint8_t>> encode_f32(const std::vector<int64_t>& shape, const float* data,
                                        size_t count) {
  int64_t numel = 0;
  if (!checked::product(shape, numel)) {
    return Status(Errc::invalid_argument, "shape " + shape_text(shape) + " is negative or overflows");
  }
  if (static_cast<uint64_t>(numel) != count) {
    return Status(Errc::invalid_argument, "shape " + shape_text(shape) + " holds " +
                                              std::to_string(numel) + " values, given " +
                                              std::to_string(count));
  }
  if (count > 0 && data == nullptr) return Status(Errc::invalid_argument, "data is null");
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape_text(shape) + ", }";
  // Pad with spaces so the data starts on a 64-byte boundary; the header ends in '\n'.
  size_t total = kPreludeV1 + dict.size() + 1;
  const size_t padded = (total + kHeaderAlign - 1) / kHeaderAlign * kHeaderAlign;
  dict.append(padded - total, ' ');
  dict.push_back('\n');
  const bool v2 = dict.size() > 0xFFFF;
  const size_t prelude = v2 ? kPreludeV2 : kPreludeV1;
  std::vector<uint8_t> bytes(prelude + dict.size() + count * 4);
  std::memcpy(bytes.data(), kMagic, kMagicSize);
  bytes[6] = v2 ? 2 : 1;
  bytes[7] = 0;
  const uint32_t len = static_cast<uint32_t>(dict.size());
  bytes[8] = static_cast<uint8_t>(len & 0xFF);
  bytes[9] = static_cast<uint8_t>((len >> 8) & 0xFF);
  if (v2) {
    bytes[10] = static_cast<uint8_t>((len >> 16) & 0xFF);
    bytes[11] = static_cast<uint8_t>((len >> 24) & 0xFF);
  }
  std::memcpy(bytes.data() + prelude, dict.data(), dict.size());
  if (count) std::memcpy(bytes.data() + prelude + dict.size(), data, count * 4);
  return bytes;
}

Status write_f32(const std::string& path, const std::vector<int64_t>& shape, const float* data,
                 size_t count) {
  Result<std::vector<uint8_t>> bytes = encode_f32(shape, data, count);
  if (!bytes.ok()) return Status(bytes.status()).with_context(path);
  return write_file_atomic(path, bytes->data(), bytes->size());
}

}  // namespace recur::npy
