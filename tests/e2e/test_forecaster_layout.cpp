// The bundled forecaster (a batch-first PyTorch model) through every entry point with default
// options: C++ run, C run, step, and the `recur run` CLI each read x the way PyTorch did and
// match PyTorch's own outputs (examples/forecaster/expected_1998.npy); explicit layouts
// override the model's.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "formats/npy.hpp"
#include "recur/format.hpp"
#include "recur/model.hpp"
#include "recur/recur.h"
#include "tools/convert/convert.hpp"

using namespace recur;
namespace fs = std::filesystem;

namespace {

const std::string kForecaster = std::string(RECUR_EXAMPLES_DIR) + "/forecaster";

npy::Array read_npy(const std::string& path) {
  Result<npy::Array> a = npy::read(path);
  REQUIRE_MESSAGE(a.ok(), a.status().to_string());
  return std::move(a).value();
}

// Elements outside abs 1e-5 + rel 1e-4 of PyTorch's outputs.
size_t mismatches(const std::vector<float>& got, const std::vector<float>& want) {
  REQUIRE(got.size() == want.size());
  size_t bad = 0;
  for (size_t k = 0; k < got.size(); ++k) {
    if (!(std::fabs(double(got[k]) - want[k]) <= 1e-5 + 1e-4 * std::fabs(double(want[k])))) ++bad;
  }
  return bad;
}

// (B, T, I) -> (T, B, I).
std::vector<float> to_time_major(const std::vector<float>& x, int64_t B, int64_t T, int64_t I) {
  std::vector<float> out(x.size());
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t k = 0; k < I; ++k) out[size_t((t * B + b) * I + k)] = x[size_t((b * T + t) * I + k)];
  return out;
}

struct Forecaster {
  std::string path;              // the converted .recur file
  npy::Array x;                  // (B, T, I) batch-first, as PyTorch took it
  std::vector<float> expected;   // (B, O) PyTorch's outputs
  int64_t B = 0, T = 0, I = 0;
};

Forecaster convert_forecaster(const std::string& source, const convert::ConvertOptions& options) {
  Forecaster f;
  Result<convert::Conversion> conv = convert::convert_file(source, options);
  REQUIRE_MESSAGE(conv.ok(), conv.status().to_string());
  REQUIRE(conv->spec.batch_first);
  const fs::path dir = fs::path(RECUR_BINARY_DIR) / "forecaster_layout";
  fs::create_directories(dir);
  f.path = (dir / (fs::path(source).filename().string() + ".recur")).string();
  REQUIRE(write_model(conv->spec, f.path).ok());
  f.x = read_npy(kForecaster + "/test_1998.npy");
  f.expected = read_npy(kForecaster + "/expected_1998.npy").f32;
  REQUIRE(f.x.shape.size() == 3);
  f.B = f.x.shape[0];
  f.T = f.x.shape[1];
  f.I = f.x.shape[2];
  return f;
}

void check_every_entry_point(const Forecaster& f) {
  Result<Model> model = Model::load(f.path);
  REQUIRE_MESSAGE(model.ok(), model.status().to_string());
  CHECK(model->batch_first());
  const int64_t O = model->output_size();

  SUBCASE("C++ run with a default RunInput") {
    RunInput in;
    in.x = f.x.f32.data();
    in.seq_len = f.T;
    in.batch = f.B;
    Result<RunOutput> out = model->run(in);
    REQUIRE(out.ok());
    CHECK(out->y_shape == std::vector<int64_t>{f.B, O});
    CHECK(mismatches(out->y, f.expected) == 0);
  }
  SUBCASE("C++ run, explicit layouts") {
    const std::vector<float> tm = to_time_major(f.x.f32, f.B, f.T, f.I);
    RunInput in{tm.data(), f.T, f.B, Layout::time_major};
    Result<RunOutput> out = model->run(in);
    REQUIRE(out.ok());
    CHECK(mismatches(out->y, f.expected) == 0);
    // The batch-first array read as time-major is another input: the outputs must differ.
    in.x = f.x.f32.data();
    Result<RunOutput> wrong = model->run(in);
    REQUIRE(wrong.ok());
    CHECK(mismatches(wrong->y, f.expected) > 0);
    in.layout = Layout::batch_first;
    Result<RunOutput> bf = model->run(in);
    REQUIRE(bf.ok());
    CHECK(mismatches(bf->y, f.expected) == 0);
  }
  SUBCASE("C API with a zero-initialised recur_run_input") {
    recur_model* m = nullptr;
    REQUIRE(recur_model_load(f.path.c_str(), &m) == RECUR_OK);
    CHECK(recur_model_batch_first(m) == 1);
    recur_run_input in{};
    in.x = f.x.f32.data();
    in.seq_len = f.T;
    in.batch = f.B;
    int64_t y_count = 0;
    REQUIRE(recur_run_output_sizes(m, f.T, f.B, &y_count, nullptr, nullptr) == RECUR_OK);
    std::vector<float> y(static_cast<size_t>(y_count));
    CHECK(recur_run(m, &in, nullptr, y.data(), y_count, nullptr, 0, nullptr, 0) == RECUR_OK);
    CHECK(mismatches(y, f.expected) == 0);
    recur_model_free(m);
  }
  SUBCASE("step over each window, one stream per window") {
    Result<State> state = model->new_state(f.B);
    REQUIRE(state.ok());
    std::vector<float> xt(size_t(f.B * f.I)), y(size_t(f.B * O));
    for (int64_t t = 0; t < f.T; ++t) {
      for (int64_t b = 0; b < f.B; ++b)
        for (int64_t k = 0; k < f.I; ++k) xt[size_t(b * f.I + k)] = f.x.f32[size_t((b * f.T + t) * f.I + k)];
      REQUIRE(model->step(*state, xt.data(), y.data()).ok());
    }
    CHECK(mismatches(y, f.expected) == 0);  // the last-step head after the last step
  }
  SUBCASE("recur run with no layout flag, and --time-major") {
    const fs::path out = fs::path(f.path).parent_path() / (fs::path(f.path).stem().string() + "_cli");
    fs::remove_all(out);
    const std::string base = std::string(RECUR_CLI_PATH) + " run " + f.path + " --out " + out.string();
    REQUIRE(std::system((base + " --input " + kForecaster + "/test_1998.npy > /dev/null").c_str()) == 0);
    CHECK(mismatches(read_npy(out.string() + "/y.npy").f32, f.expected) == 0);
    const std::string tm_path = (out / "x_tm.npy").string();
    REQUIRE(npy::write_f32(tm_path, {f.T, f.B, f.I}, to_time_major(f.x.f32, f.B, f.T, f.I)).ok());
    REQUIRE(std::system((base + " --time-major --input " + tm_path + " > /dev/null").c_str()) == 0);
    CHECK(mismatches(read_npy(out.string() + "/y.npy").f32, f.expected) == 0);
    CHECK(std::system((base + " --time-major --batch-first --input " + tm_path + " > /dev/null 2>&1").c_str()) != 0);
  }
}

}  // namespace

TEST_CASE("forecaster from ONNX: every entry point with defaults matches PyTorch") {
  check_every_entry_point(convert_forecaster(kForecaster + "/forecaster.onnx", {}));
}

TEST_CASE("forecaster from its state_dict: the layout and head step are required, then it matches") {
  const std::string pt = kForecaster + "/forecaster.pt";
  Result<convert::Conversion> guess = convert::convert_file(pt);
  REQUIRE_FALSE(guess.ok());
  CHECK(guess.status().message().find("pass --batch-first or --time-major") != std::string::npos);
  CHECK(guess.status().message().find("pass --last-step or --every-step") != std::string::npos);
  convert::ConvertOptions options;  // what train.py's module does: batch_first=True, out[:, -1]
  options.arch.batch_first = true;
  options.arch.last_step = true;
  check_every_entry_point(convert_forecaster(pt, options));
}
