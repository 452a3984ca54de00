// How a recur::Status reaches Python: the bindings throw StatusError, and one translator turns
// it into recur.Error(code, message) (a ValueError subclass defined in recur/_error.py).
#pragma once

#include <utility>

#include <nanobind/nanobind.h>

#include "recur/status.hpp"

namespace recur::py {

namespace nb = nanobind;

struct StatusError {
  Status status;
};

[[noreturn]] inline void raise(Status status) { throw StatusError{std::move(status)}; }
[[noreturn]] inline void raise(Errc code, std::string message) { raise(Status(code, std::move(message))); }
inline void check(const Status& status) {
  if (!status.ok()) raise(status);
}
template <class T>
T take(Result<T> result) {
  if (!result.ok()) raise(result.status());
  return std::move(result).value();
}

void register_errors();
void register_model(nb::module_& m);
void register_convert(nb::module_& m);

}  // namespace recur::py
