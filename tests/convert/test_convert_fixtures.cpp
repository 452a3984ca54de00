// Every fixture in tests/fixtures/convert/<case>/ (made by scripts/fixtures/make_convert_fixtures.py
// with PyTorch, Keras or torch.onnx.export) converts, runs in recur and matches the output the
// SOURCE framework computed, within abs 1e-5 / rel 1e-4. The converter's fp64 source-semantics
// reference (used by the CLI self-check) must match it too, and the spec must survive a
// .recur write/read round trip.
#include <doctest/doctest.h>

#include <dirent.h>

#include <algorithm>

#include "convert/convert_helpers.hpp"
#include "recur/format.hpp"

namespace recur::test {
namespace {

std::vector<std::string> fixture_cases() {
  std::vector<std::string> out;
  if (DIR* d = opendir(kConvertFixtures.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n[0] != '.' && file_exists(kConvertFixtures + "/" + n + "/case.json")) out.push_back(n);
    }
    closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void check_case(const std::string& name) {
  CAPTURE(name);
  const std::string dir = kConvertFixtures + "/" + name;
  nlohmann::json c = read_json(dir + "/case.json");
  auto conv = convert::convert_file(dir + "/" + c["source"].get<std::string>(), options_from_args(c["args"]));
  REQUIRE_MESSAGE(conv.ok(), conv.status().to_string());
  CHECK(conv->spec.batch_first == c["batch_first"].get<bool>());
  CHECK(validate(conv->spec).ok());
  if (conv->spec.head) CHECK(conv->spec.head->last_step_only == c["last_step"].get<bool>());

  auto x = npy::read(dir + "/x.npy");
  REQUIRE_MESSAGE(x.ok(), x.status().to_string());
  auto y = npy::read(dir + "/y.npy");
  REQUIRE_MESSAGE(y.ok(), y.status().to_string());
  REQUIRE(x->shape.size() == 3);
  const bool bf = conv->spec.batch_first;
  const int64_t T = bf ? x->shape[1] : x->shape[0], B = bf ? x->shape[0] : x->shape[1];

  // Optional run inputs (ONNX graph inputs): initial states and sequence lengths.
  npy::Array h0, c0, len;
  std::vector<int32_t> lengths;
  auto load = [&](const char* key, npy::Array& a) {
    if (!c.contains(key)) return false;
    auto r = npy::read(dir + "/" + c[key].get<std::string>());
    REQUIRE_MESSAGE(r.ok(), r.status().to_string());
    a = std::move(*r);
    return true;
  };
  const bool has_h0 = load("h0", h0), has_c0 = load("c0", c0), has_len = load("lengths", len);
  for (int64_t v : len.i64) lengths.push_back(static_cast<int32_t>(v));

  // 1. The source-semantics reference agrees with the source framework (it knows no initial
  //    states or lengths: those cases are checked through the runtime only).
  if (!has_h0 && !has_c0 && !has_len) {
    auto ref = conv->reference(std::vector<double>(x->f32.begin(), x->f32.end()), T, B);
    REQUIRE_MESSAGE(ref.ok(), ref.status().to_string());
    REQUIRE(ref->size() == y->f32.size());
    double max_abs = 0;
    CHECK_MESSAGE(count_mismatches(*ref, y->f32, max_abs) == 0, "reference max abs error " << max_abs);
  }
  double max_abs = 0;

  // 2. The .recur round trip keeps the spec.
  auto bytes = serialize_model(conv->spec);
  REQUIRE_MESSAGE(bytes.ok(), bytes.status().to_string());
  auto back = parse_model(bytes->data(), bytes->size(), name);
  REQUIRE_MESSAGE(back.ok(), back.status().to_string());
  CHECK(back->spec == conv->spec);

  // 3. recur's runtime reproduces the source framework's output.
  auto model = Model::from_spec(back->spec);
  REQUIRE_MESSAGE(model.ok(), model.status().to_string());
  RunInput in;
  in.x = x->f32.data();
  in.seq_len = T;
  in.batch = B;
  in.layout = bf ? Layout::batch_first : Layout::time_major;
  if (has_h0) in.h0 = h0.f32.data();
  if (has_c0) in.c0 = c0.f32.data();
  if (has_len) in.lengths = lengths.data();
  auto out = model->run(in);
  REQUIRE_MESSAGE(out.ok(), out.status().to_string());
  CHECK(out->y_shape == y->shape);
  REQUIRE(out->y.size() == y->f32.size());
  CHECK_MESSAGE(count_mismatches(std::vector<double>(out->y.begin(), out->y.end()), y->f32, max_abs) == 0,
                "runtime max abs error " << max_abs);
}

}  // namespace

TEST_CASE("convert fixtures: every source model reproduces its framework's output in recur") {
  std::vector<std::string> cases = fixture_cases();
  // torch (.pt), safetensors, LSTM_v1, torch.onnx.export, Keras .keras + .h5
  REQUIRE(cases.size() >= 30);
  for (const std::string& name : cases) {
    SUBCASE(name.c_str()) { check_case(name); }
  }
}

TEST_CASE("convert fixtures: coverage of sources and features") {
  auto has = [](const char* name) { return file_exists(kConvertFixtures + "/" + name + "/case.json"); };
  for (const char* c : {"pt_lstm_proj_2l", "pt_gru_batch_first_softmax_last", "pt_rnn_relu_bidir", "pt_rnn_tanh_3l_head",
                        "st_gru_bidir_head", "lstm_v1", "onnx_lstm_2l_bidir_head", "onnx_gru_batch_first_last_softmax",
                        "keras_gru_reset_after", "keras_gru_reset_before_h5", "keras_bidir_lstm_dense",
                        "keras_simplernn_relu_h5"})
    CHECK_MESSAGE(has(c), c);
}

TEST_CASE("convert: the LSTM_v1 gates land in canonical order i, f, g, o") {
  const std::string dir = kConvertFixtures + "/lstm_v1";
  auto conv = convert::convert_file(dir + "/model.pt", options_from_args({{"arch", "lstm_v1"}}));
  REQUIRE_MESSAGE(conv.ok(), conv.status().to_string());
  const auto& L = conv->spec.layers.at(0);
  CHECK(L.cell == CellType::lstm);
  CHECK(L.input_size == 5);
  CHECK(L.hidden_size == 7);
  CHECK(conv->spec.batch_first);
  // Rb is zero: each Linear has one bias, all of it lands in Wb.
  for (float v : L.weights[0].Rb.data) CHECK(v == 0.0f);
}

TEST_CASE("convert: state_dict inference is reported, explicit options are checked") {
  const std::string pt = kConvertFixtures + "/pt_lstm_2l_bidir_head/model.pt";
  // A module around nn.LSTM with a Linear head: the layout and the head's step are not in the
  // weights, so both options are required, named in one refusal.
  auto guess = convert::convert_file(pt);
  REQUIRE_FALSE(guess.ok());
  CHECK(guess.status().code() == Errc::invalid_argument);
  CHECK(guess.status().message().find("pass --batch-first or --time-major") != std::string::npos);
  CHECK(guess.status().message().find("pass --last-step or --every-step") != std::string::npos);
  convert::ConvertOptions given;
  given.arch.batch_first = false;
  given.arch.last_step = false;
  auto conv = convert::convert_file(pt, given);
  REQUIRE_MESSAGE(conv.ok(), conv.status().to_string());
  bool reported = false;
  for (const auto& n : conv->notes) reported |= n.find("inferred: arch lstm, 2 layer(s), bidirectional") != std::string::npos;
  CHECK(reported);
  // What the self-check cannot confirm is said: both came from options.
  REQUIRE(conv->unchecked.size() == 2);
  CHECK(conv->unchecked[0].find("--every-step") != std::string::npos);
  CHECK(conv->unchecked[1].find("--time-major") != std::string::npos);
  given.arch.batch_first.reset();
  auto one = convert::convert_file(pt, given);
  REQUIRE_FALSE(one.ok());
  CHECK(one.status().message().find("--last-step") == std::string::npos);
  convert::ConvertOptions wrong = given;
  wrong.arch.batch_first = false;
  wrong.arch.arch = "gru";
  auto r = convert::convert_file(pt, wrong);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Errc::invalid_model);
  convert::ConvertOptions layers = wrong;
  layers.arch.arch.clear();
  layers.arch.layers = 3;
  r = convert::convert_file(pt, layers);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Errc::invalid_model);
  convert::ConvertOptions bad_arch = layers;
  bad_arch.arch.layers = 0;
  bad_arch.arch.arch = "transformer";
  r = convert::convert_file(pt, bad_arch);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Errc::invalid_argument);
}

}  // namespace recur::test

namespace recur::test {

// The self-check is only worth something if it notices a wrong gate order: swap two gate blocks
// of a converted ONNX LSTM (i <-> f) and the runtime no longer matches the source reference.
TEST_CASE("convert self-check: a wrong gate reordering is caught by the source reference") {
  const std::string dir = kConvertFixtures + "/onnx_lstm_2l_bidir_head";
  auto conv = convert::convert_file(dir + "/model.onnx");
  REQUIRE_MESSAGE(conv.ok(), conv.status().to_string());
  const int64_t T = 4, B = 2, I = conv->spec.input_size();
  std::vector<float> x(static_cast<size_t>(T * B * I));
  for (size_t k = 0; k < x.size(); ++k) x[k] = static_cast<float>(std::sin(0.7 * double(k)));
  auto ref = conv->reference(std::vector<double>(x.begin(), x.end()), T, B);
  REQUIRE(ref.ok());
  auto run = [&](const ModelSpec& spec) {
    auto model = Model::from_spec(spec);
    REQUIRE_MESSAGE(model.ok(), model.status().to_string());
    RunInput in;
    in.x = x.data();
    in.seq_len = T;
    in.batch = B;
    auto out = model->run(in);
    REQUIRE(out.ok());
    return std::vector<double>(out->y.begin(), out->y.end());
  };
  auto as_float = [](const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); };
  double max_abs = 0;
  CHECK(count_mismatches(run(conv->spec), as_float(*ref), max_abs) == 0);

  ModelSpec wrong = conv->spec;
  DirectionWeights& w = wrong.layers[0].weights[0];
  const int64_t H = wrong.layers[0].hidden_size;
  for (Tensor* t : {&w.W, &w.R, &w.Wb, &w.Rb}) {
    const int64_t width = t->shape.size() == 2 ? t->shape[1] : 1;
    std::swap_ranges(t->data.begin(), t->data.begin() + H * width, t->data.begin() + H * width);  // i <-> f
  }
  CHECK(count_mismatches(run(wrong), as_float(*ref), max_abs) > 0);
  CHECK(max_abs > 1e-3);
}

}  // namespace recur::test
