// Small helpers shared by the importers: error construction, gate-block reordering (rows of a stacked gate matrix), file reading with a size cap.
#pragma once

#include <cstdint>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "formats/checked.hpp"
#include "formats/shape_str.hpp"
#include "recur/spec.hpp"
#include "recur/status.hpp"

namespace recur::convert {

inline constexpr uint64_t kMaxSourceBytes = 8ull << 30;  // refuse sources above 8 GiB

inline std::string to_part(const std::string& s) { return s; }
inline std::string to_part(const char* s) { return s; }
inline std::string to_part(char* s) { return s; }
inline std::string to_part(char c) { return std::string(1, c); }
template <class T>
std::string to_part(const T& v) { return std::to_string(v); }
// cat("layer ", 3, ": ", name) -> "layer 3: name"
template <class... Parts>
std::string cat(const Parts&... parts) {
  std::string s;
  ((s += to_part(parts)), ...);
  return s;
}

inline Status fail(Errc code, std::string message) { return Status(code, std::move(message)); }

// Checks t has exactly `shape`; the message names `what`.
Status expect_shape(const Tensor& t, const std::vector<int64_t>& shape, const std::string& what);

// Rows [row0, row0 + rows) of a 2-D tensor (or elements of a 1-D one).
Tensor slice_rows(const Tensor& t, int64_t row0, int64_t rows);
// Columns [col0, col0 + cols) of a 2-D tensor.
Tensor slice_cols(const Tensor& t, int64_t col0, int64_t cols);
Tensor transpose2d(const Tensor& t);
// Stack row blocks of 1-D/2-D tensors with equal trailing shape.
Tensor concat_rows(const std::vector<Tensor>& parts);
Tensor add(const Tensor& a, const Tensor& b);

// Permute the G row blocks (each H rows) of a stacked gate tensor from the gate order `from`
// into the order `to`, both strings of gate letters (e.g. "iofg" -> "ifgo").
Tensor reorder_gates(const Tensor& t, int64_t H, const std::string& from, const std::string& to);

// io unless `path` (after symlinks) is a regular file: never a FIFO, device or directory.
Status check_regular_file(const std::string& path);
// A regular file's bytes (same refusal as check_regular_file); above max_bytes is unsupported.
Result<std::vector<uint8_t>> read_file_bytes(const std::string& path, uint64_t max_bytes = kMaxSourceBytes);
// The size of a regular file (same refusal as check_regular_file).
Result<uint64_t> regular_file_size(const std::string& path);
// Exactly `length` bytes at `offset` of a regular file (io if it is shorter).
Result<std::vector<uint8_t>> read_file_range(const std::string& path, uint64_t offset, uint64_t length);
// `s` with control bytes (a NUL included) written as \xNN, for messages.
std::string printable(const std::string& s);
std::string file_stem(const std::string& path);
std::string parent_dir(const std::string& path);  // "." when none

// Runs an importer, turning any exception from a library underneath (nlohmann::json type
// errors on odd configs, std::bad_alloc on absurd sizes) into a Status: nothing escapes.
template <class Fn>
auto guarded(const std::string& path, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    return fail(Errc::out_of_memory, path + ": out of memory while reading the source");
  } catch (const std::exception& e) {
    return fail(Errc::bad_metadata, path + ": malformed source: " + e.what());
  }
}

// Fill in name/producer/source/source_hash, validate, and print-ready layer lines.
Status finish_spec(ModelSpec& spec, const std::string& path, const std::string& name);
std::string describe_layer(const RecurrentLayer& layer, size_t index);
std::string describe_head(const DenseHead& head);

}  // namespace recur::convert
