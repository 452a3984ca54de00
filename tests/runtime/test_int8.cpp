// LoadOptions::precision = int8 (runtime/int8_layer.hpp) over every cell and option: the same
// bits at 1 and 2 threads, from step as from run, with and without VNNI (RECUR_NO_VNNI=1), on
// every ISA where the cells are the reference ones; and within the documented bound
// (docs/precision.md) of the fp64 reference of the fp32 model. Refusals are named.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "recur/model.hpp"
#include "tests/reference/reference.hpp"
#include "tests/runtime/runtime_helpers.hpp"

namespace {

using namespace recur;

// Max |int8 - fp64 reference of the fp32 model| over y and h_n allowed for these random models
// (weights U(±1/√H), x U(±1), T = 6): docs/precision.md gives the measured figures.
constexpr double kInt8MaxAbsError = 0.02;

struct Int8Case {
  const char* name;
  test::SpecOptions spec;
  bool vector_cells;  // default activations: the ISA's vector sigmoid/tanh, bits differ across ISAs
};

std::vector<Int8Case> cases() {
  std::vector<Int8Case> out;
  auto add = [&](const char* name, test::SpecOptions o, bool vector_cells = false) {
    out.push_back({name, o, vector_cells});
  };
  test::SpecOptions o;
  o.input_size = 5;
  o.hidden_size = 17;
  add("lstm", o, true);
  o.hidden_size = 34;
  o.num_layers = 2;
  add("lstm 2 layers H=34", o, true);
  o.num_layers = 1;
  o.hidden_size = 17;
  o.peepholes = true;
  add("lstm peepholes", o);
  o.peepholes = false;
  o.proj_size = 7;
  add("lstm projection", o, true);
  o.proj_size = 0;
  o.clip = 0.5f;
  add("lstm clip", o);
  o.clip = 0.0f;
  o.input_forget = true;
  add("lstm input_forget", o);
  o.input_forget = false;
  o.direction = Direction::bidirectional;
  o.head_size = 3;
  add("lstm bidirectional + head", o, true);
  o.direction = Direction::forward;
  o.head_size = 0;
  o.cell = CellType::gru;
  add("gru", o, true);
  o.linear_before_reset = true;
  add("gru linear_before_reset", o, true);
  o.clip = 0.7f;
  add("gru linear_before_reset clip", o);
  o.clip = 0.0f;
  o.linear_before_reset = false;
  o.cell = CellType::rnn;
  add("rnn", o, true);
  o.activations = {Activation{"Relu", 0.0f, 0.0f}};
  add("rnn relu", o);
  return out;
}

Model load(const ModelSpec& spec, Isa isa, Precision precision) {
  LoadOptions lo;
  lo.isa = isa;
  lo.precision = precision;
  Result<Model> m = Model::from_spec(spec, lo);
  REQUIRE_MESSAGE(m.ok(), m.status().to_string());
  return std::move(m).value();
}

double max_abs_error(const std::vector<float>& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  double e = 0;
  for (size_t i = 0; i < got.size(); ++i) e = std::max(e, std::fabs(double(got[i]) - want[i]));
  return e;
}

std::vector<Isa> available_isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::avx512, Isa::avx2, Isa::scalar}) {
    if (Model::from_spec(test::random_spec({}), LoadOptions{isa}).ok()) out.push_back(isa);
  }
  return out;
}

}  // namespace

TEST_CASE("int8: every cell and option, threads, step, VNNI or not, ISAs, and the error bound") {
  const int64_t T = 6, B = 7;
  for (const Int8Case& c : cases()) {
    CAPTURE(c.name);
    const ModelSpec spec = test::random_spec(c.spec);
    const std::vector<float> x = test::random_values(static_cast<size_t>(T * B * spec.input_size()), 3);
    std::vector<int32_t> lengths = {6, 1, 0, 6, 3, 5, 2};
    RunInput in{x.data(), T, B};
    in.lengths = lengths.data();
    reference::Input rin;
    rin.x = x;
    rin.seq_len = T;
    rin.batch = B;
    rin.lengths = lengths;
    const auto ref = reference::run(spec, rin);
    REQUIRE_MESSAGE(ref.ok(), ref.status().to_string());

    std::vector<float> first_y;  // the first ISA's, for the ISAs whose cells are the same code
    for (Isa isa : available_isas()) {
      CAPTURE(isa_name(isa));
      const Model m = load(spec, isa, Precision::int8);
      RunOptions one, two;
      one.threads = 1;
      two.threads = 2;
      const RunOutput a = test::run_ok(m, in, one);
      const RunOutput b = test::run_ok(m, in, two);
      test::require_same_bits(a.y, b.y);
      test::require_same_bits(a.h_n, b.h_n);
      test::require_same_bits(a.c_n, b.c_n);
      setenv("RECUR_NO_VNNI", "1", 1);
      const Model plain = load(spec, isa, Precision::int8);
      unsetenv("RECUR_NO_VNNI");
      test::require_same_bits(test::run_ok(plain, in, one).y, a.y);
      if (!c.vector_cells) {
        if (first_y.empty()) first_y = a.y;
        test::require_same_bits(a.y, first_y);
      }
      if (c.spec.direction == Direction::forward) {
        const RunInput full{x.data(), T, B};
        const RunOutput r = test::run_ok(m, full, two);
        const test::Stepped s = test::step_all(m, x.data(), T, B, nullptr, nullptr, two);
        test::require_same_bits(s.h, r.h_n);
        if (spec.head) continue;
        test::require_same_bits(s.y, r.y);
      }
      const double ey = max_abs_error(a.y, ref->y), eh = max_abs_error(a.h_n, ref->h_n);
      MESSAGE(std::string(c.name) << " " << std::string(isa_name(isa)) << ": int8 max abs error y " << ey << ", h_n " << eh);
      CHECK(ey <= kInt8MaxAbsError);
      CHECK(eh <= kInt8MaxAbsError);
      // Not silently fp32: the fp32 model's results differ.
      const RunOutput f = test::run_ok(load(spec, isa, Precision::f32), in, one);
      CHECK(f.y != a.y);
    }
  }
}

TEST_CASE("int8: the error bound holds at H = 64..256 (standard random LSTM models)") {
  for (int64_t H : {64, 128, 256}) {
    CAPTURE(H);
    test::SpecOptions o;
    o.input_size = H;
    o.hidden_size = H;
    const ModelSpec spec = test::random_spec(o);
    const int64_t T = 20, B = 2;
    const std::vector<float> x = test::random_values(static_cast<size_t>(T * B * H), 5);
    reference::Input rin;
    rin.x = x;
    rin.seq_len = T;
    rin.batch = B;
    const auto ref = reference::run(spec, rin);
    REQUIRE(ref.ok());
    const RunOutput got = test::run_ok(load(spec, Isa::best, Precision::int8), RunInput{x.data(), T, B});
    const double e = max_abs_error(got.y, ref->y);
    MESSAGE("H=" << H << ": int8 max abs error y " << e);
    CHECK(e <= kInt8MaxAbsError);
  }
}

TEST_CASE("int8: requests the runtime cannot serve are refused at load, by name") {
  const ModelSpec spec = test::random_spec({});
  LoadOptions lo;
  lo.precision = Precision::bf16;
  Result<Model> m = Model::from_spec(spec, lo);
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().code() == Errc::unsupported);
  CHECK(m.status().message().find("bf16") != std::string::npos);
  lo.precision = Precision::int8;
  lo.recurrent_weights = WeightFormat::bf16;
  m = Model::from_spec(spec, lo);
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().code() == Errc::invalid_argument);
  lo.recurrent_weights = WeightFormat::f32;
  setenv("RECUR_NO_VNNI", "yes", 1);
  m = Model::from_spec(spec, lo);
  unsetenv("RECUR_NO_VNNI");
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().code() == Errc::invalid_argument);
  CHECK(m.status().message().find("RECUR_NO_VNNI") != std::string::npos);
  Precision p = Precision::f32;
  CHECK(parse_precision("int8", p));
  CHECK(p == Precision::int8);
  CHECK_FALSE(parse_precision("int4", p));
}
