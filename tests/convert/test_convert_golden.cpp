// The oracle's golden fixtures (tests/fixtures/golden/<case>/: model.onnx from onnxruntime cases or
// model.pt from PyTorch cases, with the CANONICAL weights layers.<k>.<dir>.{W,R,Wb,Rb,P,Wp}.npy
// and expected y/h_n/c_n) through the converter: the converted spec must hold exactly the
// canonical tensors (this checks every gate reordering without the runtime), and running it
// with the case's h0/c0/lengths must reproduce the expected outputs (abs 1e-5, rel 1e-4).
// RECUR_GOLDEN_DIR overrides the directory.
#include <doctest/doctest.h>

#include <dirent.h>

#include <algorithm>
#include <cstdlib>

#include "convert/convert_helpers.hpp"

namespace recur::test {
namespace {

std::string golden_dir() {
  const char* env = std::getenv("RECUR_GOLDEN_DIR");
  return env ? env : std::string(RECUR_FIXTURES_DIR) + "/golden";
}

std::vector<std::string> golden_cases(const std::string& root) {
  std::vector<std::string> out;
  if (DIR* d = opendir(root.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n[0] == '.' || !file_exists(root + "/" + n + "/case.json")) continue;
      if (file_exists(root + "/" + n + "/model.onnx") || file_exists(root + "/" + n + "/model.pt")) out.push_back(n);
    }
    closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void check_tensor(const std::string& dir, const nlohmann::json& files, const char* key, const Tensor& got,
                  const std::string& what) {
  if (!files.contains(key) || !files[key].is_string()) return;
  auto want = npy::read(dir + "/" + files[key].get<std::string>());
  REQUIRE_MESSAGE(want.ok(), want.status().to_string());
  CHECK_MESSAGE(got.shape == want->shape, what << "." << key);
  if (got.shape != want->shape) return;
  double max_abs = 0;
  size_t bad = count_mismatches(std::vector<double>(got.data.begin(), got.data.end()), want->f32, max_abs, 1e-7, 1e-6);
  CHECK_MESSAGE(bad == 0, what << "." << key << " differs from the canonical tensor (max abs " << max_abs << ")");
}

void check_golden(const std::string& root, const std::string& name) {
  CAPTURE(name);
  const std::string dir = root + "/" + name;
  nlohmann::json c = read_json(dir + "/case.json");
  convert::ConvertOptions opt;
  std::string src = dir + "/model.onnx";
  if (c.contains("torch")) {
    const auto& t = c["torch"];
    src = dir + "/" + t["file"].get<std::string>();
    const auto& kw = t["kwargs"];
    opt.arch.prefix = t["module"].get<std::string>() + ".";
    opt.arch.batch_first = kw.value("batch_first", false);  // the module's own argument
    opt.arch.nonlinearity = kw.value("nonlinearity", std::string());
    if (t["head"].is_string()) {
      opt.arch.head = "linear";
      opt.arch.head_prefix = t["head"].get<std::string>() + ".";
      opt.arch.softmax = t.value("head_softmax", false);
      opt.arch.last_step = t.value("head_last_step_only", false);
    } else {
      opt.arch.head = "none";
    }
  }
  auto conv = convert::convert_file(src, opt);
  REQUIRE_MESSAGE(conv.ok(), conv.status().to_string());
  const ModelSpec& spec = conv->spec;

  // The canonical tensors, exactly.
  CHECK(spec.batch_first == c["batch_first"].get<bool>());
  REQUIRE(spec.layers.size() == c["layers"].size());
  for (size_t k = 0; k < spec.layers.size(); ++k) {
    const auto& want = c["layers"][k];
    const RecurrentLayer& L = spec.layers[k];
    CHECK(std::string(cell_name(L.cell)) == want["type"].get<std::string>());
    CHECK(std::string(direction_name(L.direction)) == want["direction"].get<std::string>());
    CHECK(L.hidden_size == want["hidden_size"].get<int64_t>());
    CHECK(L.proj_size == want["proj_size"].get<int64_t>());
    CHECK(L.linear_before_reset == want["linear_before_reset"].get<bool>());
    CHECK(L.input_forget == want["input_forget"].get<bool>());
    CHECK(L.peepholes == want["peepholes"].get<bool>());
    CHECK(L.clip == doctest::Approx(want["clip"].get<double>()));
    // Activations: the same list, or none where the case has the defaults.
    REQUIRE(want["activations"].is_array());
    if (!want["activations"].empty()) {
      REQUIRE(L.activations.size() == want["activations"].size());
      for (size_t a = 0; a < L.activations.size(); ++a) {
        const auto& wa = want["activations"][a];
        CHECK(L.activations[a].name == wa["name"].get<std::string>());
        CHECK(L.activations[a].alpha == doctest::Approx(wa.value("alpha", 0.0)));
        CHECK(L.activations[a].beta == doctest::Approx(wa.value("beta", 0.0)));
      }
    } else {
      CHECK(L.activations.empty());
    }
    for (size_t d = 0; d < L.weights.size() && d < want["weights"].size(); ++d) {
      const auto& files = want["weights"][d];
      const std::string what = "layers." + std::to_string(k) + "." + (d ? "reverse" : "forward");
      const DirectionWeights& w = L.weights[d];
      check_tensor(dir, files, "W", w.W, what);
      check_tensor(dir, files, "R", w.R, what);
      check_tensor(dir, files, "Wb", w.Wb, what);
      check_tensor(dir, files, "Rb", w.Rb, what);
      check_tensor(dir, files, "P", w.P, what);
      check_tensor(dir, files, "Wp", w.Wp, what);
    }
  }
  CHECK(spec.head.has_value() == !c["head"].is_null());
  if (spec.head && !c["head"].is_null()) {
    CHECK(spec.head->softmax == c["head"]["softmax"].get<bool>());
    CHECK(spec.head->last_step_only == c["head"]["last_step_only"].get<bool>());
    check_tensor(dir, c["head"], "W", spec.head->W, "head");
    check_tensor(dir, c["head"], "b", spec.head->b, "head");
  }

  // Run with the case's inputs and compare every expected output.
  auto model = Model::from_spec(spec);
  REQUIRE_MESSAGE(model.ok(), model.status().to_string());
  const auto& inputs = c["inputs"];
  auto x = npy::read(dir + "/" + inputs["x"].get<std::string>());
  REQUIRE(x.ok());
  npy::Array h0, c0, len;
  std::vector<int32_t> lengths;
  RunInput in;
  in.x = x->f32.data();
  in.layout = spec.batch_first ? Layout::batch_first : Layout::time_major;
  in.seq_len = spec.batch_first ? x->shape[1] : x->shape[0];
  in.batch = spec.batch_first ? x->shape[0] : x->shape[1];
  if (inputs.contains("h0")) {
    auto a = npy::read(dir + "/" + inputs["h0"].get<std::string>());
    REQUIRE(a.ok());
    h0 = std::move(*a);
    in.h0 = h0.f32.data();
  }
  if (inputs.contains("c0")) {
    auto a = npy::read(dir + "/" + inputs["c0"].get<std::string>());
    REQUIRE(a.ok());
    c0 = std::move(*a);
    in.c0 = c0.f32.data();
  }
  if (inputs.contains("lengths")) {
    auto a = npy::read(dir + "/" + inputs["lengths"].get<std::string>());
    REQUIRE(a.ok());
    for (int64_t v : a->i64) lengths.push_back(static_cast<int32_t>(v));
    in.lengths = lengths.data();
  }
  auto out = model->run(in);
  REQUIRE_MESSAGE(out.ok(), out.status().to_string());
  struct Expect {
    const char* key;
    const std::vector<float>* got;
  } expects[] = {{"y", &out->y}, {"h_n", &out->h_n}, {"c_n", &out->c_n}};
  for (const Expect& e : expects) {
    if (!c["expected"].contains(e.key)) continue;
    auto want = npy::read(dir + "/" + c["expected"][e.key].get<std::string>());
    REQUIRE(want.ok());
    REQUIRE_MESSAGE(e.got->size() == want->f32.size(), e.key);
    double max_abs = 0;
    CHECK_MESSAGE(count_mismatches(std::vector<double>(e.got->begin(), e.got->end()), want->f32, max_abs) == 0,
                  e.key << " max abs error " << max_abs);
  }
}

}  // namespace

TEST_CASE("convert golden fixtures: canonical tensors and outputs from onnxruntime / PyTorch") {
  const std::string root = golden_dir();
  std::vector<std::string> cases = golden_cases(root);
  if (cases.empty()) {
    MESSAGE("no golden fixtures with a source model under " << root << "; skipped");
    return;
  }
  for (const std::string& name : cases) {
    SUBCASE(name.c_str()) { check_golden(root, name); }
  }
}

}  // namespace recur::test
