// The gate-panel path of Model::run/step (runtime/panel_layer.cpp) for every ISA this CPU has,
// against the generic path on the same spec (LayerKernels::generic forces every layer onto the
// generic kernels). Covers every cell/option the panel kernels take, directions, lengths, h0/c0,
// batch layouts, threads 1 and 2 (bitwise equal to each other) and step() == run() bit for bit.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "recur/model.hpp"
#include "runtime/model_impl.hpp"
#include "support/random_spec.hpp"

using namespace recur;
using recur::test::SpecOptions;

namespace {

RunOutput run(const Model& m, const RunInput& in, int threads) {
  RunOptions o;
  o.threads = threads;
  Result<RunOutput> r = m.run(in, o);
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  return std::move(r).value();
}

void check_close(const std::vector<float>& got, const std::vector<float>& want, const char* what) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (!(std::fabs(got[i] - want[i]) <= 1e-5f + 1e-4f * std::fabs(want[i]))) {
      FAIL_CHECK(what << "[" << i << "]: got " << got[i] << ", want " << want[i]);
      return;
    }
  }
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * 4) == 0);
}

struct Case {
  const char* name;
  SpecOptions o;
};

std::vector<Case> cases() {
  std::vector<Case> v;
  auto add = [&](const char* name, CellType cell, Direction dir, int64_t H, int layers, bool lbr,
                 bool relu, bool batch_first, int64_t head) {
    SpecOptions o;
    o.cell = cell;
    o.direction = dir;
    o.input_size = 13;
    o.hidden_size = H;
    o.num_layers = layers;
    o.linear_before_reset = lbr;
    if (relu) o.activations = {{"Relu", 0, 0}};
    if (relu && dir == Direction::bidirectional) o.activations = {{"Relu", 0, 0}, {"Relu", 0, 0}};
    o.batch_first = batch_first;
    o.head_size = head;
    o.seed = static_cast<uint32_t>(v.size() + 3);
    v.push_back({name, o});
  };
  add("lstm H=17", CellType::lstm, Direction::forward, 17, 1, false, false, false, 0);
  add("lstm H=34 2 layers head", CellType::lstm, Direction::forward, 34, 2, false, false, false, 3);
  add("lstm H=1 reverse", CellType::lstm, Direction::reverse, 1, 1, false, false, true, 0);
  add("lstm H=40 bidirectional", CellType::lstm, Direction::bidirectional, 40, 2, false, false, false, 0);
  add("gru lbr H=17", CellType::gru, Direction::forward, 17, 1, true, false, false, 0);
  add("gru H=34 bidirectional", CellType::gru, Direction::bidirectional, 34, 1, false, false, true, 0);
  add("gru H=70 2 layers", CellType::gru, Direction::forward, 70, 2, false, false, false, 0);
  add("rnn tanh H=17", CellType::rnn, Direction::forward, 17, 1, false, false, false, 0);
  add("rnn relu H=66 bidirectional", CellType::rnn, Direction::bidirectional, 66, 1, false, true, false, 0);
  return v;
}

}  // namespace

TEST_CASE("panel path: run and step equal the generic kernels for every ISA") {
  const Isa isas[] = {Isa::avx512, Isa::avx2, Isa::scalar};
  for (const Case& c : cases()) {
    const ModelSpec spec = test::random_spec(c.o);
    Result<Model> generic = ModelFactory::from_spec(spec, LoadOptions{Isa::scalar}, LayerKernels::generic);
    REQUIRE_MESSAGE(generic.ok(), generic.status().to_string());
    const Model& ref = *generic;

    const int64_t T = 6, B = 7, I = spec.input_size();
    const std::vector<float> x = test::random_values(static_cast<size_t>(T * B * I), 99);
    const int64_t rows = ref.num_state_rows();
    const int64_t H = spec.layers[0].hidden_size;
    const std::vector<float> h0 = test::random_values(static_cast<size_t>(rows * B * H), 5, 0.5f);
    const std::vector<float> c0 = test::random_values(static_cast<size_t>(rows * B * H), 6, 0.5f);
    const std::vector<int32_t> lengths = {6, 1, 0, 4, 6, 3, 5};
    RunInput in{x.data(), T, B, spec.batch_first ? Layout::batch_first : Layout::time_major};
    in.h0 = h0.data();
    if (c.o.cell == CellType::lstm) in.c0 = c0.data();
    in.lengths = lengths.data();
    const RunOutput want = run(ref, in, 1);

    for (Isa isa : isas) {
      Result<Model> probe = Model::from_spec(spec, LoadOptions{isa});
      if (!probe.ok()) {
        MESSAGE("skipping " << isa_name(isa) << ": " << probe.status().to_string());
        continue;
      }
      CAPTURE(c.name);
      CAPTURE(isa_name(isa));
      const Model& m = *probe;
      const RunOutput one = run(m, in, 1);
      const RunOutput two = run(m, in, 2);
      check_close(one.y, want.y, "y");
      check_close(one.h_n, want.h_n, "h_n");
      check_close(one.c_n, want.c_n, "c_n");
      CHECK(same_bits(one.y, two.y));
      CHECK(same_bits(one.h_n, two.h_n));
      CHECK(same_bits(one.c_n, two.c_n));

      // step() == run() bit for bit (forward-only models, time-major, all lengths T).
      if (c.o.direction == Direction::forward && !spec.batch_first) {
        RunInput full{x.data(), T, B};
        const RunOutput r = run(m, full, 2);
        Result<State> s = m.new_state(B);
        REQUIRE(s.ok());
        const int64_t O = m.output_size();
        std::vector<float> y(static_cast<size_t>(T * B * O));
        for (int64_t t = 0; t < T; ++t) {
          RunOptions o;
          o.threads = 1 + static_cast<int>(t % 2);
          REQUIRE(m.step(*s, x.data() + t * B * I, y.data() + t * B * O, o).ok());
        }
        CHECK(same_bits(y, r.y));
      }
    }
  }
}
