// recur._recur.Model and State over recur::Model: load with a precision, run whole batches,
// step streams, with the GIL released while recur computes. The Python half (recur/_model.py)
// hands over C-contiguous arrays of the right dtype; their shapes are checked here.
#include <atomic>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include "errors.hpp"
#include "formats/shape_str.hpp"
#include "recur/format.hpp"
#include "recur/model.hpp"
#include "tools/convert/util.hpp"
#include "tools/model_json.hpp"

namespace recur::py {
namespace {

using convert::cat;
using FloatArray = nb::ndarray<const float, nb::c_contig, nb::device::cpu>;
using LengthArray = nb::ndarray<const int32_t, nb::c_contig, nb::device::cpu>;
using NumpyArray = nb::ndarray<nb::numpy, float>;

// Model(precision=...): each name it accepts and the LoadOptions that name sets. "" (Python's
// None) keeps the file's own precision.
using PrecisionSetter = void (*)(LoadOptions&);
const std::map<std::string, PrecisionSetter>& precisions() {
  static const std::map<std::string, PrecisionSetter> table{
      {"", [](LoadOptions&) {}},
      {"f32", [](LoadOptions& o) { o.recurrent_weights = WeightFormat::f32; }},
      {"bf16", [](LoadOptions& o) { o.recurrent_weights = WeightFormat::bf16; }},
  };
  return table;
}

std::string precision_names() {
  std::string names;
  for (const auto& [name, set] : precisions())
    if (!name.empty()) names += (names.empty() ? "'" : ", '") + name + "'";
  return names;
}

template <class Array>
std::vector<int64_t> dims_of(const Array& a) {
  std::vector<int64_t> dims;
  for (size_t i = 0; i < a.ndim(); ++i) dims.push_back(static_cast<int64_t>(a.shape(i)));
  return dims;
}

void expect_shape(const std::vector<int64_t>& got, const std::vector<int64_t>& expected, const char* what,
                  const char* meaning) {
  if (got != expected)
    raise(Errc::invalid_argument, cat(what, ": shape ", shape_str(got), ", expected ", shape_str(expected), " ",
                                      meaning));
}

// An owned vector handed to NumPy without a copy; the capsule frees it with the array.
NumpyArray to_numpy(std::vector<float>&& data, const std::vector<int64_t>& shape) {
  auto* owned = new std::vector<float>(std::move(data));
  nb::capsule owner(owned, [](void* p) noexcept { delete static_cast<std::vector<float>*>(p); });
  std::vector<size_t> dims(shape.begin(), shape.end());
  return NumpyArray(owned->data(), dims.size(), dims.data(), owner);
}

struct PyModel {
  Model model;
  int threads = 1;
  int64_t h_width = 0;  // widest Hout over the layers: h0/h_n are (L*D, B, h_width)
  int64_t c_width = 0;  // widest lstm H: c0/c_n are (L*D, B, c_width); 0 = no lstm layer

  bool own_batch_first() const { return model.batch_first(); }
  RunOptions run_options() const {
    RunOptions o;
    o.threads = threads;
    return o;
  }
};

PyModel load(const std::string& path, const std::optional<std::string>& precision, int threads) {
  const auto setter = precisions().find(precision.value_or(""));
  if (setter == precisions().end())
    raise(Errc::invalid_argument, cat("precision '", *precision, "' is not one of ", precision_names(),
                                      " (or None: the file's own)"));
  LoadOptions options;
  setter->second(options);
  options.threads = threads;
  Result<Model> loaded = [&] {
    nb::gil_scoped_release unlocked;
    return Model::load(path, options);
  }();
  PyModel m{take(std::move(loaded)), threads};
  for (const LayerConfig& l : m.model.config().layers) {
    m.h_width = std::max(m.h_width, l.output_size());
    if (l.cell == CellType::lstm) m.c_width = std::max(m.c_width, l.hidden_size);
  }
  return m;
}

nb::tuple run(const PyModel& m, const FloatArray& x, const std::optional<LengthArray>& lengths,
              const std::optional<FloatArray>& h0, const std::optional<FloatArray>& c0,
              std::optional<bool> batch_first) {
  // None: Layout::model, the layout the model was converted with.
  const Layout layout = !batch_first ? Layout::model : *batch_first ? Layout::batch_first : Layout::time_major;
  const bool bf = batch_first.value_or(m.own_batch_first());
  const std::vector<int64_t> x_dims = dims_of(x);
  if (x_dims.size() != 3)
    raise(Errc::invalid_argument, cat("x: shape ", shape_str(x_dims), ", expected 3 dimensions ",
                                      bf ? "(B, T, I)" : "(T, B, I)"));
  const int64_t T = bf ? x_dims[1] : x_dims[0], B = bf ? x_dims[0] : x_dims[1];
  const int64_t I = m.model.input_size(), rows = m.model.num_state_rows();
  expect_shape(x_dims, bf ? std::vector<int64_t>{B, T, I} : std::vector<int64_t>{T, B, I}, "x",
               bf ? "(B, T, I)" : "(T, B, I)");
  if (h0) expect_shape(dims_of(*h0), {rows, B, m.h_width}, "h0", "(L*D, B, Hout)");
  if (c0) {
    if (m.c_width == 0) raise(Errc::invalid_argument, "c0 given, but the model has no LSTM layer");
    expect_shape(dims_of(*c0), {rows, B, m.c_width}, "c0", "(L*D, B, H)");
  }
  if (lengths) expect_shape(dims_of(*lengths), {B}, "lengths", "(B)");

  RunInput in;
  in.x = x.data();
  in.seq_len = T;
  in.batch = B;
  in.layout = layout;
  in.h0 = h0 ? h0->data() : nullptr;
  in.c0 = c0 ? c0->data() : nullptr;
  in.lengths = lengths ? lengths->data() : nullptr;
  Result<RunOutput> result = [&] {
    nb::gil_scoped_release unlocked;
    return m.model.run(in, m.run_options());
  }();
  RunOutput out = take(std::move(result));
  nb::object c_n = nb::none();
  if (m.c_width > 0) c_n = nb::cast(to_numpy(std::move(out.c_n), out.c_shape));
  return nb::make_tuple(to_numpy(std::move(out.y), out.y_shape), to_numpy(std::move(out.h_n), out.h_shape), c_n);
}

// A State used by one thread at a time: a second thread stepping it meanwhile gets an error,
// not a data race.
struct PyState {
  State state;
  std::atomic<bool> busy{false};

  struct Claim {
    explicit Claim(PyState& s) : s_(s) {
      if (s_.busy.exchange(true))
        raise(Errc::invalid_argument, "this State is in use by another thread; give each thread its own");
    }
    ~Claim() { s_.busy.store(false); }
    PyState& s_;
  };
};

NumpyArray step(const PyModel& m, PyState& s, const FloatArray& x) {
  const int64_t B = s.state.batch();
  expect_shape(dims_of(x), {B, m.model.input_size()}, "x", "(B, I) for the State's batch");
  PyState::Claim claim(s);
  std::vector<float> y(static_cast<size_t>(B * m.model.output_size()));
  Status status = [&] {
    nb::gil_scoped_release unlocked;
    return m.model.step(s.state, x.data(), y.data(), m.run_options());
  }();
  check(status);
  return to_numpy(std::move(y), {B, m.model.output_size()});
}

void state_set(const PyModel& m, PyState& s, const FloatArray& h, const std::optional<FloatArray>& c) {
  const int64_t rows = m.model.num_state_rows(), B = s.state.batch();
  expect_shape(dims_of(h), {rows, B, m.h_width}, "h", "(L*D, B, Hout)");
  if (c) expect_shape(dims_of(*c), {rows, B, m.c_width}, "c", "(L*D, B, H)");
  PyState::Claim claim(s);
  check(s.state.set(h.data(), c ? c->data() : nullptr));
}

nb::tuple state_get(const PyModel& m, PyState& s) {
  const int64_t rows = m.model.num_state_rows(), B = s.state.batch();
  PyState::Claim claim(s);
  std::vector<float> h(static_cast<size_t>(rows * B * m.h_width)), c(static_cast<size_t>(rows * B * m.c_width));
  check(s.state.get(h.data(), m.c_width ? c.data() : nullptr));
  nb::object c_out = nb::none();
  if (m.c_width > 0) c_out = nb::cast(to_numpy(std::move(c), {rows, B, m.c_width}));
  return nb::make_tuple(to_numpy(std::move(h), {rows, B, m.h_width}), c_out);
}

std::string inspect_json(const std::string& path) {
  Result<ModelFile> file = [&] {
    nb::gil_scoped_release unlocked;
    return read_model(path);
  }();
  return cli::model_file_json(take(std::move(file))).dump();
}

}  // namespace

void register_model(nb::module_& m) {
  nb::class_<PyState>(m, "State", "Per-stream recurrent state for Model.step (made by Model.new_state).")
      .def_prop_ro("batch", [](const PyState& s) { return s.state.batch(); }, "The number of streams.")
      .def("reset", [](PyState& s) {
        PyState::Claim claim(s);
        s.state.reset();
      }, "Back to zeros.");

  nb::class_<PyModel>(m, "Model", "A loaded .recur model (see recur.Model).")
      .def("__init__",
           [](PyModel* self, const std::string& path, const std::optional<std::string>& precision, int threads) {
             new (self) PyModel(load(path, precision, threads));
           },
           nb::arg("path"), nb::arg("precision").none(), nb::arg("threads"))
      .def_prop_ro("input_size", [](const PyModel& m) { return m.model.input_size(); })
      .def_prop_ro("output_size", [](const PyModel& m) { return m.model.output_size(); })
      .def_prop_ro("batch_first", &PyModel::own_batch_first)
      .def_prop_ro("isa", [](const PyModel& m) { return std::string(isa_name(m.model.isa())); })
      .def("run", &run, nb::arg("x").noconvert(), nb::arg("lengths").noconvert().none(),
           nb::arg("h0").noconvert().none(), nb::arg("c0").noconvert().none(), nb::arg("batch_first").none(),
           "(y, h_n, c_n or None) for x; arrays as recur::Model::run takes them.")
      .def("new_state",
           [](const PyModel& m, int64_t batch) { return new PyState{take(m.model.new_state(batch))}; },
           nb::arg("batch"), nb::keep_alive<0, 1>(), nb::rv_policy::take_ownership)
      .def("step", &step, nb::arg("state"), nb::arg("x").noconvert())
      .def("state_set", &state_set, nb::arg("state"), nb::arg("h").noconvert(), nb::arg("c").noconvert().none())
      .def("state_get", &state_get, nb::arg("state"));

  m.def("inspect_json", &inspect_json, nb::arg("path"), "`recur inspect --json PATH` as a string.");
  m.def("precisions", [] {
    nb::list names;
    for (const auto& [name, set] : precisions())
      if (!name.empty()) names.append(name);
    return names;
  }, "The names Model(precision=...) accepts besides None.");
}

}  // namespace recur::py
