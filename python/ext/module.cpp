// recur._recur: the compiled half of the Python package (the public API is recur/__init__.py).
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>

#include "recur/status.hpp"
#include "errors.hpp"

namespace recur::py {

void register_errors() {
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const StatusError& e) {
      nb::object cls = nb::module_::import_("recur._error").attr("Error");
      nb::object error = cls(errc_name(e.status.code()), e.status.message());
      PyErr_SetObject(cls.ptr(), error.ptr());
    }
  });
}

}  // namespace recur::py

NB_MODULE(_recur, m) {
  m.doc() = "recur's C++ runtime and converter (use the recur package, not this module).";
  m.attr("__version__") = RECUR_VERSION;
  recur::py::register_errors();
  recur::py::register_model(m);
  recur::py::register_convert(m);
}
