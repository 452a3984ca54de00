// LoadOptions::recurrent_weights = bf16: a model so loaded computes exactly what the f32 model
// whose R matrices were rounded to bfloat16 computes (bit for bit, every ISA, batch size, thread
// count, cell and option, fused and reference layers alike), that is within the fp32 tolerance
// of the fp64 reference run on the rounded weights; and Model::load streams the same panels as
// Model::from_spec.
#include <doctest/doctest.h>

#include <cfloat>
#include <cstdio>
#include <string>
#include <vector>

#include "kernels/recurrent.hpp"
#include "recur/format.hpp"
#include "recur/model.hpp"
#include "tests/reference/compare.hpp"
#include "tests/reference/reference.hpp"
#include "tests/runtime/runtime_helpers.hpp"

namespace {

using namespace recur;

// The spec with every layer's R rounded to the nearest bfloat16.
ModelSpec with_rounded_r(ModelSpec spec) {
  for (RecurrentLayer& layer : spec.layers) {
    for (DirectionWeights& w : layer.weights) {
      for (float& x : w.R.data) x = kernels::from_bf16(kernels::to_bf16(x));
    }
  }
  return spec;
}

Model load_spec(const ModelSpec& spec, Isa isa, WeightFormat format) {
  LoadOptions lo;
  lo.isa = isa;
  lo.recurrent_weights = format;
  Result<Model> m = Model::from_spec(spec, lo);
  REQUIRE_MESSAGE(m.ok(), m.status().to_string());
  return std::move(m).value();
}

bool isa_available(Isa isa) {
  LoadOptions lo;
  lo.isa = isa;
  return Model::from_spec(test::random_spec({}), lo).ok();
}

}  // namespace

TEST_CASE("bf16 recurrent weights: results are those of the f32 model of the rounded R, bit for bit") {
  struct Case {
    test::SpecOptions spec;
    int64_t T, B;
  };
  std::vector<Case> cases;
  const auto add = [&](test::SpecOptions o, int64_t T, int64_t B) {
    o.seed = static_cast<uint32_t>(cases.size() + 1);
    cases.push_back({o, T, B});
  };
  for (CellType cell : {CellType::lstm, CellType::gru, CellType::rnn}) {
    test::SpecOptions o;
    o.cell = cell;
    o.input_size = 9;
    o.hidden_size = 37;  // odd: the last bf16 word of each lane holds one weight
    for (int64_t B : {1, 5, 20}) add(o, 6, B);  // B = 20: lstm and rnn compute x·W in the step
    o.hidden_size = 300;
    o.input_size = 40;
    add(o, 3, 20);  // many rows (row blocks and a tail) over long bf16 panels
    o.hidden_size = 16;
    o.num_layers = 2;
    o.direction = Direction::bidirectional;
    o.head_size = 3;
    add(o, 5, 3);
  }
  test::SpecOptions gru2;
  gru2.cell = CellType::gru;
  gru2.linear_before_reset = true;
  gru2.hidden_size = 33;
  add(gru2, 4, 2);
  test::SpecOptions proj;  // lstm with projection and peepholes: the reference kernels' layers
  proj.proj_size = 5;
  proj.peepholes = true;
  proj.hidden_size = 11;
  add(proj, 4, 3);

  for (Isa isa : {Isa::avx512, Isa::avx2, Isa::scalar}) {
    if (!isa_available(isa)) continue;
    for (const Case& c : cases) {
      CAPTURE(isa_name(isa)); CAPTURE(cell_name(c.spec.cell)); CAPTURE(c.spec.hidden_size);
      CAPTURE(c.spec.num_layers); CAPTURE(c.B);
      const ModelSpec spec = test::random_spec(c.spec);
      const ModelSpec rounded = with_rounded_r(spec);
      const Model bf16 = load_spec(spec, isa, WeightFormat::bf16);
      const Model f32 = load_spec(rounded, isa, WeightFormat::f32);
      const Model plain = load_spec(spec, isa, WeightFormat::f32);
      const std::vector<float> x = test::random_values(static_cast<size_t>(c.T * c.B * spec.input_size()), 7);
      const RunInput in{x.data(), c.T, c.B};
      for (int threads : {1, 2}) {
        RunOptions ro;
        ro.threads = threads;
        const RunOutput got = test::run_ok(bf16, in, ro);
        const RunOutput want = test::run_ok(f32, in, ro);
        test::require_same_bits(got.y, want.y);
        test::require_same_bits(got.h_n, want.h_n);
        test::require_same_bits(got.c_n, want.c_n);
        // Not the f32 model's results: the rounding is in effect.
        const RunOutput unrounded = test::run_ok(plain, in, ro);
        CHECK(got.y != unrounded.y);
      }
      // Within the fp32 tolerance of the fp64 reference on the rounded weights.
      reference::Input rin;
      rin.x = x;
      rin.seq_len = c.T;
      rin.batch = c.B;
      const auto ref = reference::run(rounded, rin);
      REQUIRE_MESSAGE(ref.ok(), ref.status().to_string());
      const RunOutput got = test::run_ok(bf16, in);
      const std::string ey = test::compare_arrays("y", got.y, ref->y);
      const std::string eh = test::compare_arrays("h_n", got.h_n, ref->h_n);
      CHECK_MESSAGE(ey.empty(), ey);
      CHECK_MESSAGE(eh.empty(), eh);
      // Streaming gives the same bits as run.
      if (c.spec.direction == Direction::forward) {
        const test::Stepped s = test::step_all(bf16, x.data(), c.T, c.B);
        test::require_same_bits(s.h, got.h_n);
      }
    }
  }
}

TEST_CASE("bf16 recurrent weights: Model::load packs the file's R as Model::from_spec does") {
  for (CellType cell : {CellType::lstm, CellType::gru, CellType::rnn}) {
    CAPTURE(cell_name(cell));
    test::SpecOptions o;
    o.cell = cell;
    o.hidden_size = 45;
    o.input_size = 6;
    const ModelSpec spec = test::random_spec(o);
    const std::string path = std::string(RECUR_BINARY_DIR) + "/bf16_" + cell_name(cell) + ".recur";
    REQUIRE(write_model(spec, path).ok());
    LoadOptions lo;
    lo.recurrent_weights = WeightFormat::bf16;
    Result<Model> loaded = Model::load(path, lo);
    std::remove(path.c_str());
    REQUIRE_MESSAGE(loaded.ok(), loaded.status().to_string());
    const Model built = load_spec(spec, Isa::best, WeightFormat::bf16);
    const std::vector<float> x = test::random_values(static_cast<size_t>(4 * 2 * o.input_size), 9);
    const RunInput in{x.data(), 4, 2};
    const RunOutput a = test::run_ok(*loaded, in);
    const RunOutput b = test::run_ok(built, in);
    test::require_same_bits(a.y, b.y);
    test::require_same_bits(a.h_n, b.h_n);
  }
}

TEST_CASE("bf16 recurrent weights: a weight that would round to infinity is refused") {
  for (bool peepholes : {false, true}) {  // a fused layer, and a reference-path layer
    CAPTURE(peepholes);
    test::SpecOptions o;
    o.peepholes = peepholes;
    o.hidden_size = 6;
    ModelSpec spec = test::random_spec(o);
    spec.layers[0].weights[0].R.data[7] = 3.0e38f;  // large, but a bfloat16 holds it
    LoadOptions lo;
    lo.recurrent_weights = WeightFormat::bf16;
    CHECK(Model::from_spec(spec, lo).ok());
    spec.layers[0].weights[0].R.data[7] = FLT_MAX;
    const Status s = Model::from_spec(spec, lo).status();
    CHECK_MESSAGE(s.code() == Errc::non_finite, s.to_string());
    CHECK_MESSAGE(s.message().find("recurrent weight (1, 1)") != std::string::npos, s.to_string());
    CHECK(Model::from_spec(spec).ok());  // f32 keeps it
    const std::string path = std::string(RECUR_BINARY_DIR) + "/bf16_overflow.recur";
    REQUIRE(write_model(spec, path).ok());
    const Status l = Model::load(path, lo).status();
    CHECK(Model::load(path).ok());
    std::remove(path.c_str());
    CHECK_MESSAGE(l.code() == Errc::non_finite, l.to_string());
    CHECK_MESSAGE(l.message().find("bf16_overflow.recur") != std::string::npos, l.to_string());
    CHECK_MESSAGE(l.message().find("rounds to infinity in bfloat16") != std::string::npos, l.to_string());
  }
}
