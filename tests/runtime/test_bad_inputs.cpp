// Bad calls return a Status with a specific Errc and a message naming what is wrong; nothing
// aborts.
#include <cmath>
#include <limits>

#include "runtime_helpers.hpp"

using namespace recur;
using namespace recur::test;

namespace {

void check_err(const Status& s, Errc code, const char* mentions) {
  CAPTURE(s.to_string());
  CHECK(s.code() == code);
  CHECK(s.message().find(mentions) != std::string::npos);
}

}  // namespace

TEST_CASE("run rejects bad arguments with specific errors") {
  SpecOptions o;
  o.cell = CellType::lstm;
  const Model m = make_model(o);
  const int64_t T = 4, B = 2, I = m.input_size();
  std::vector<float> x = random_values(static_cast<size_t>(T * B * I), 1);

  check_err(m.run(RunInput{nullptr, T, B}).status(), Errc::invalid_argument, "x is null");
  check_err(m.run(RunInput{x.data(), 0, B}).status(), Errc::invalid_argument, "seq_len");
  check_err(m.run(RunInput{x.data(), -3, B}).status(), Errc::invalid_argument, "seq_len");
  check_err(m.run(RunInput{x.data(), T, 0}).status(), Errc::invalid_argument, "batch");
  // Absurd sizes are caught before any allocation or read.
  check_err(m.run(RunInput{x.data(), int64_t{1} << 40, int64_t{1} << 40}).status(),
            Errc::invalid_argument, "elements");
  check_err(m.run(RunInput{x.data(), std::numeric_limits<int64_t>::max(), 3}).status(),
            Errc::invalid_argument, "elements");

  RunInput in{x.data(), T, B};
  std::vector<int32_t> len = {4, 5};
  in.lengths = len.data();
  check_err(m.run(in).status(), Errc::invalid_argument, "lengths[1] is 5");
  len = {-1, 2};
  check_err(m.run(in).status(), Errc::invalid_argument, "lengths[0] is -1");

  RunOptions bad_threads;
  bad_threads.threads = -1;
  check_err(m.run(RunInput{x.data(), T, B}, bad_threads).status(), Errc::invalid_argument, "threads");

  x[static_cast<size_t>((2 * B + 1) * I + 3)] = std::nanf("");
  check_err(m.run(RunInput{x.data(), T, B}).status(), Errc::non_finite, "x has a non-finite value (NaN) at [2, 1, 3]");
  RunOptions no_check;
  no_check.check_finite = false;
  CHECK(m.run(RunInput{x.data(), T, B}, no_check).ok());  // propagates instead
  x[static_cast<size_t>((2 * B + 1) * I + 3)] = 0.0f;

  std::vector<float> h0(static_cast<size_t>(1 * B * 7), 0.0f), c0(h0);
  h0[3] = std::numeric_limits<float>::infinity();
  in = RunInput{x.data(), T, B};
  in.h0 = h0.data();
  check_err(m.run(in).status(), Errc::non_finite, "h0 has a non-finite value (Inf) at [0, 0, 3]");
  h0[3] = 0.0f;
  c0[8] = std::nanf("");
  in.c0 = c0.data();
  check_err(m.run(in).status(), Errc::non_finite, "c0 has a non-finite value (NaN) at [0, 1, 1]");

  SpecOptions og;
  og.cell = CellType::gru;
  const Model g = make_model(og);
  RunInput gi{x.data(), T, B};
  gi.c0 = c0.data();
  check_err(g.run(gi).status(), Errc::invalid_argument, "c0 given but the model has no lstm");

  Model empty;
  check_err(empty.run(RunInput{x.data(), T, B}).status(), Errc::invalid_argument, "empty");
}

TEST_CASE("step and State reject bad arguments with specific errors") {
  SpecOptions o;
  const Model m = make_model(o);
  const Model other = make_model(o);
  const int64_t B = 2, I = m.input_size(), O = m.output_size();
  std::vector<float> x = random_values(static_cast<size_t>(B * I), 1), y(static_cast<size_t>(B * O));

  check_err(m.new_state(0).status(), Errc::invalid_argument, "batch is 0");
  check_err(m.new_state(-5).status(), Errc::invalid_argument, "batch is -5");
  check_err(m.new_state(int64_t{1} << 50).status(), Errc::invalid_argument, "elements");

  Result<State> s = m.new_state(B);
  REQUIRE(s.ok());
  Result<State> foreign = other.new_state(B);
  REQUIRE(foreign.ok());
  check_err(m.step(*foreign, x.data(), y.data()), Errc::invalid_argument, "another Model");
  check_err(m.step(*s, nullptr, y.data()), Errc::invalid_argument, "x is null");
  check_err(m.step(*s, x.data(), nullptr), Errc::invalid_argument, "y is null");
  State moved = std::move(*s);
  check_err(m.step(*s, x.data(), y.data()), Errc::invalid_argument, "empty");  // NOLINT: moved-from
  CHECK(m.step(moved, x.data(), y.data()).ok());
  x[1] = std::numeric_limits<float>::infinity();
  check_err(m.step(moved, x.data(), y.data()), Errc::non_finite, "x has a non-finite value (Inf) at [0, 1]");

  std::vector<float> h(static_cast<size_t>(B * 7)), c(h);
  h[0] = std::nanf("");
  check_err(moved.set(h.data(), nullptr), Errc::non_finite, "h has a non-finite value");
  SpecOptions og;
  og.cell = CellType::rnn;
  const Model r = make_model(og);
  Result<State> rs = r.new_state(B);
  check_err(rs->set(nullptr, c.data()), Errc::invalid_argument, "no lstm");
  check_err(rs->get(nullptr, c.data()), Errc::invalid_argument, "no lstm");

  SpecOptions ob;
  ob.direction = Direction::bidirectional;
  const Model bi = make_model(ob);
  check_err(bi.new_state(1).status(), Errc::unsupported, "forward-only");
  check_err(bi.step(moved, x.data(), y.data()), Errc::unsupported, "forward-only");
  ob.direction = Direction::reverse;
  check_err(make_model(ob).new_state(1).status(), Errc::unsupported, "forward-only");
}

TEST_CASE("load: invalid models and ISA choices") {
  ModelSpec spec = random_spec(SpecOptions{});
  spec.layers[0].weights[0].W.data[0] = std::nanf("");
  check_err(Model::from_spec(spec).status(), Errc::non_finite, "W");
  LoadOptions lenient;
  lenient.check_finite = false;
  CHECK(Model::from_spec(spec, lenient).ok());

  spec = random_spec(SpecOptions{});
  spec.layers[0].hidden_size = 8;  // weights are for 7
  CHECK(Model::from_spec(spec).status().code() == Errc::invalid_model);

  check_err(Model::load("/nonexistent/dir/model.recur").status(), Errc::io, "model.recur");

  for (int threads : {-1, 1025}) {
    LoadOptions lo;
    lo.threads = threads;
    check_err(Model::from_spec(random_spec(SpecOptions{}), lo).status(), Errc::invalid_argument,
              ("LoadOptions::threads is " + std::to_string(threads)).c_str());
  }

  spec = random_spec(SpecOptions{});
  LoadOptions scalar;
  scalar.isa = Isa::scalar;
  Result<Model> ms = Model::from_spec(spec, scalar);
  REQUIRE(ms.ok());
  CHECK(ms->isa() == Isa::scalar);
  Result<Model> mb = Model::from_spec(spec);
  REQUIRE(mb.ok());
  CHECK(mb->isa() != Isa::best);
  for (Isa isa : {Isa::avx512, Isa::avx2}) {
    LoadOptions lo;
    lo.isa = isa;
    Result<Model> mi = Model::from_spec(spec, lo);
    // Either the CPU has it, or the error says it does not.
    if (!mi.ok()) check_err(mi.status(), Errc::unsupported, isa_name(isa));
  }

  setenv("RECUR_ISA", "sse9", 1);
  check_err(Model::from_spec(spec).status(), Errc::invalid_argument, "RECUR_ISA='sse9'");
  setenv("RECUR_ISA", "scalar", 1);
  Result<Model> me = Model::from_spec(spec);
  REQUIRE(me.ok());
  CHECK(me->isa() == Isa::scalar);
  unsetenv("RECUR_ISA");
}
