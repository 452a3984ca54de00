// Errors as values: a closed set of codes plus a message that names the file, tensor,
// byte offset or dimension at fault. Nothing in recur throws across its public API.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "recur/export.h"

namespace recur {

enum class Errc {
  ok = 0,
  io,                // the file system said no (open, read, write, rename)
  bad_magic,         // not a .recur file
  unsupported_version,  // a .recur major version this build cannot read
  truncated,         // the file ends before a header field, the metadata or a tensor
  bad_header,        // a header field is inconsistent (sizes, offsets, alignment)
  bad_metadata,      // metadata is not valid JSON or lacks/misuses a key
  bad_tensor,        // tensor table entry invalid: dtype, shape, offset, overlap, overflow
  checksum_mismatch, // xxh64 of metadata + data differs from the header
  invalid_model,     // layers do not fit together (sizes, missing or misshaped tensors)
  non_finite,        // NaN or Inf where finite values are required
  invalid_argument,  // a caller-supplied value (shape, option, length) is wrong
  unsupported,       // valid, but not something this build can do
  out_of_memory,
  internal,
};

RECUR_API const char* errc_name(Errc code) noexcept;

class [[nodiscard]] RECUR_API Status {
 public:
  Status() = default;
  Status(Errc code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return {}; }

  bool ok() const noexcept { return code_ == Errc::ok; }
  explicit operator bool() const noexcept { return ok(); }
  Errc code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  // "bad_tensor: model.recur: tensor 'layers.0.W' ..."
  std::string to_string() const;

  // Prefixes the message with context, e.g. the file name: "ctx: message".
  Status& with_context(const std::string& context);

 private:
  Errc code_ = Errc::ok;
  std::string message_;
};

// A value or the Status that explains why there is none.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}           // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {     // NOLINT: implicit by design
    if (std::get<Status>(v_).ok()) v_ = Status(Errc::internal, "Result built from an ok Status");
  }

  bool ok() const noexcept { return std::holds_alternative<T>(v_); }
  explicit operator bool() const noexcept { return ok(); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace recur

// Early-return helpers for code that produces Status/Result.
#define RECUR_TRY(expr)                     \
  do {                                      \
    ::recur::Status recur_try_s_ = (expr);  \
    if (!recur_try_s_.ok()) return recur_try_s_; \
  } while (0)
