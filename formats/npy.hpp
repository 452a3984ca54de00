// NumPy .npy files: a strict reader (format versions 1.0, 2.0 and 3.0; little-endian f4, f8,
// i4, i8 and the byte types b1, u1; C order only) and an atomic fp32 writer. Every size read
// from a file is checked before use; every error names the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "recur/status.hpp"

namespace recur::npy {

// A dense row-major array. Floating dtypes (f4, f8) land in `f32` (f8 rounded to float);
// integer and boolean dtypes (i4, i8, u1, b1) land in `i64`. Exactly one of them is filled.
struct Array {
  std::vector<int64_t> shape;  // () for a 0-d array, which holds one value
  std::vector<float> f32;
  std::vector<int64_t> i64;
  bool integer = false;        // true: values are in i64
  std::string descr;           // the dtype as the file spelled it, e.g. "<f4"

  int64_t numel() const noexcept {
    return static_cast<int64_t>(integer ? i64.size() : f32.size());
  }
};

// Parse a whole .npy image. `name` (a file name) prefixes every error message.
// Errors: bad_magic (not .npy), unsupported (version, dtype, big-endian, fortran_order),
// bad_metadata (header dict malformed, shape invalid or overflowing), truncated (header or data
// shorter than declared), bad_tensor (bytes left over after the data).
Result<Array> parse(const uint8_t* data, size_t size, const std::string& name);
// Read `path` and parse it; io when the file cannot be read.
Result<Array> read(const std::string& path);

// Encode a float32 array as a version 1.0 .npy image ('<f4', C order). invalid_argument when
// the shape is negative, overflows, or does not match `count` values.
Result<std::vector<uint8_t>> encode_f32(const std::vector<int64_t>& shape, const float* data,
                                        size_t count);
// Write a float32 array to `path` atomically (temporary file in the same directory + rename).
Status write_f32(const std::string& path, const std::vector<int64_t>& shape, const float* data,
                 size_t count);
inline Status write_f32(const std::string& path, const std::vector<int64_t>& shape,
                        const std::vector<float>& data) {
  return write_f32(path, shape, data.data(), data.size());
}

}  // namespace recur::npy
