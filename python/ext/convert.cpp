// recur._recur.convert_file / convert_state_dict: `recur convert` for Python. The same importers,
// options, summary, atomic write and self-check as the CLI (tools/convert/write_checked.hpp),
// and, as there, Keras sources (libhdf5) converted in a capped child process.
#include <csignal>
#include <cstdio>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "errors.hpp"
#include "tools/convert/contained.hpp"
#include "tools/convert/convert.hpp"
#include "tools/convert/state_dict.hpp"
#include "tools/convert/util.hpp"
#include "tools/convert/write_checked.hpp"

namespace recur::py {
namespace {

using convert::cat;

// The CLI's options, one attribute each (recur.convert(**options) sets them by name).
struct ConvertOptions {
  convert::ConvertOptions conv;
  convert::CheckOptions check;
};

// Import with `import_source`, then summary + write + self-check: the text `recur convert` prints.
template <class Import>
Result<std::string> convert_and_write(const std::string& source, const std::string& out, const ConvertOptions& o,
                                      Import import_source) {
  Result<convert::Conversion> conv = import_source();
  if (!conv.ok()) return conv.status();
  Result<std::string> closing = convert::write_checked(*conv, out, o.check);
  if (!closing.ok()) return closing.status();
  return convert::conversion_summary(source, *conv) + *closing;
}

// Exit codes of the contained child: 0 ok, kFailedBase + Errc a conversion error (its message in
// the shared temporary file); run_contained's own 1 means the child died.
constexpr int kFailedBase = 10;

// Runs the conversion in a child process capped as the CLI caps it. The child writes its text
// (the summary, or the error message) to a temporary file created before the fork.
Result<std::string> convert_contained(const std::string& src, const std::string& out, const ConvertOptions& o) {
  struct stat st {};
  const uint64_t bytes = ::stat(src.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  std::FILE* text = std::tmpfile();
  if (!text) return Status(Errc::io, cat(src, ": cannot create a temporary file for the conversion"));
  const pid_t parent = ::getpid();
  const int rc = convert::run_contained(src, convert::limits_for_source(bytes), [&] {
    // In the child, a crash must kill it plainly: not run Python's faulthandler, which would
    // print the parent's Python stack as if the parent had crashed.
    if (::getpid() != parent)
      for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) std::signal(sig, SIG_DFL);
    Result<std::string> r = convert_and_write(src, out, o, [&] { return convert::convert_file(src, o.conv); });
    const std::string& s = r.ok() ? *r : r.status().message();
    std::fwrite(s.data(), 1, s.size(), text);
    std::fflush(text);
    return r.ok() ? 0 : kFailedBase + static_cast<int>(r.status().code());
  });
  std::string s;
  std::rewind(text);
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, text)) > 0;) s.append(buf, n);
  std::fclose(text);
  if (rc == 0) return s;
  if (rc > kFailedBase && rc <= kFailedBase + static_cast<int>(Errc::internal))
    return Status(static_cast<Errc>(rc - kFailedBase), s);
  return Status(Errc::bad_metadata, cat(src, ": the HDF5 reader crashed or ran past its caps on this file ",
                                        "(exit ", rc, "); nothing was written"));
}

std::string convert_file(const std::string& src, const std::string& out, const ConvertOptions& o) {
  Result<std::string> text = [&]() -> Result<std::string> {
    nb::gil_scoped_release unlocked;
    Result<convert::SourceFormat> format = convert::detect_format(src);
    const bool hdf5 = format.ok() && (*format == convert::SourceFormat::keras ||
                                      *format == convert::SourceFormat::keras_h5);
    if (hdf5) return convert_contained(src, out, o);
    return convert_and_write(src, out, o, [&] { return convert::convert_file(src, o.conv); });
  }();
  return take(std::move(text));
}

using StateTensor = nb::ndarray<const float, nb::c_contig, nb::device::cpu>;

// A state_dict handed over as (name, fp32 array, source dtype) triples, e.g. from a live module.
std::string convert_state_dict(const std::vector<std::tuple<std::string, StateTensor, std::string>>& tensors,
                               const std::string& source, const std::string& out, const ConvertOptions& o) {
  convert::StateDict sd;
  for (const auto& [name, array, dtype] : tensors) {
    convert::NamedTensor t;
    t.name = name;
    t.dtype = dtype;
    for (size_t i = 0; i < array.ndim(); ++i) t.tensor.shape.push_back(static_cast<int64_t>(array.shape(i)));
    t.tensor.data.assign(array.data(), array.data() + array.size());
    sd.push_back(std::move(t));
  }
  Result<std::string> text = [&] {
    nb::gil_scoped_release unlocked;
    return convert_and_write(source, out, o, [&] {
      return convert::convert_state_dict(sd, source, convert::SourceFormat::torch, o.conv);
    });
  }();
  return take(std::move(text));
}

}  // namespace

void register_convert(nb::module_& m) {
  nb::class_<ConvertOptions>(m, "ConvertOptions", "The options of `recur convert`, one attribute each.")
      .def(nb::init<>())
      .def_prop_rw("arch", [](const ConvertOptions& o) { return o.conv.arch.arch; },
                   [](ConvertOptions& o, std::string v) { o.conv.arch.arch = std::move(v); })
      .def_prop_rw("layers", [](const ConvertOptions& o) { return o.conv.arch.layers; },
                   [](ConvertOptions& o, int v) { o.conv.arch.layers = v; })
      .def_prop_rw("bidirectional", [](const ConvertOptions& o) { return o.conv.arch.bidirectional; },
                   [](ConvertOptions& o, std::optional<bool> v) { o.conv.arch.bidirectional = v; },
                   nb::arg("value").none())
      .def_prop_rw("proj_size", [](const ConvertOptions& o) { return o.conv.arch.proj_size; },
                   [](ConvertOptions& o, int64_t v) { o.conv.arch.proj_size = v; })
      .def_prop_rw("batch_first", [](const ConvertOptions& o) { return o.conv.arch.batch_first; },
                   [](ConvertOptions& o, std::optional<bool> v) { o.conv.arch.batch_first = v; }, nb::arg("value").none())
      .def_prop_rw("nonlinearity", [](const ConvertOptions& o) { return o.conv.arch.nonlinearity; },
                   [](ConvertOptions& o, std::string v) { o.conv.arch.nonlinearity = std::move(v); })
      .def_prop_rw("prefix", [](const ConvertOptions& o) { return o.conv.arch.prefix; },
                   [](ConvertOptions& o, std::string v) { o.conv.arch.prefix = std::move(v); })
      .def_prop_rw("head", [](const ConvertOptions& o) { return o.conv.arch.head; },
                   [](ConvertOptions& o, std::string v) { o.conv.arch.head = std::move(v); })
      .def_prop_rw("head_prefix", [](const ConvertOptions& o) { return o.conv.arch.head_prefix; },
                   [](ConvertOptions& o, std::string v) { o.conv.arch.head_prefix = std::move(v); })
      .def_prop_rw("softmax", [](const ConvertOptions& o) { return o.conv.arch.softmax; },
                   [](ConvertOptions& o, bool v) { o.conv.arch.softmax = v; })
      .def_prop_rw("last_step", [](const ConvertOptions& o) { return o.conv.arch.last_step; },
                   [](ConvertOptions& o, std::optional<bool> v) { o.conv.arch.last_step = v; }, nb::arg("value").none())
      .def_prop_rw("name", [](const ConvertOptions& o) { return o.conv.name; },
                   [](ConvertOptions& o, std::string v) { o.conv.name = std::move(v); })
      .def_prop_rw("no_check", [](const ConvertOptions& o) { return o.check.skip; },
                   [](ConvertOptions& o, bool v) { o.check.skip = v; })
      .def_prop_rw("check_atol", [](const ConvertOptions& o) { return o.check.atol; },
                   [](ConvertOptions& o, double v) { o.check.atol = v; })
      .def_prop_rw("check_rtol", [](const ConvertOptions& o) { return o.check.rtol; },
                   [](ConvertOptions& o, double v) { o.check.rtol = v; });

  m.def("convert_file", &convert_file, nb::arg("src"), nb::arg("out"), nb::arg("options"),
        "`recur convert SRC -o OUT`; returns the text it prints.");
  m.def("convert_state_dict", &convert_state_dict, nb::arg("tensors"), nb::arg("source"), nb::arg("out"),
        nb::arg("options"), "A state_dict given as (name, float32 array, dtype) triples -> OUT.");
}

}  // namespace recur::py
