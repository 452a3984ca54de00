// step() over T steps equals run() over the sequence bit for bit, for every cell and option
// that streams (forward layers), stacked, with and without a head and initial state.
#include "runtime_helpers.hpp"

using namespace recur;
using namespace recur::test;

namespace {

struct Case {
  const char* name;
  SpecOptions o;
};

std::vector<Case> cases() {
  std::vector<Case> cs;
  auto add = [&](const char* name, SpecOptions o) { cs.push_back({name, o}); };
  SpecOptions o;
  o.cell = CellType::rnn; add("rnn tanh", o);
  o.activations = {{"Relu", 0, 0}}; add("rnn relu", o);
  o = {}; o.cell = CellType::lstm; add("lstm", o);
  o.peepholes = true; add("lstm peepholes", o);
  o.proj_size = 3; add("lstm peepholes + proj", o);
  o = {}; o.input_forget = true; o.clip = 0.5f; add("lstm cifg + clip", o);
  o = {}; o.activations = {{"HardSigmoid", 0.2f, 0.5f}, {"Softsign", 0, 0}, {"ScaledTanh", 1.5f, 0.7f}};
  add("lstm activations", o);
  o = {}; o.cell = CellType::gru; add("gru", o);
  o.linear_before_reset = true; add("gru linear_before_reset", o);
  o.clip = 0.3f; add("gru lbr + clip", o);
  o = {}; o.cell = CellType::lstm; o.num_layers = 3; o.head_size = 4; add("lstm x3 + head", o);
  o.head_softmax = true; add("lstm x3 + softmax head", o);
  o = {}; o.cell = CellType::gru; o.num_layers = 2; o.head_size = 3; o.hidden_size = 37;
  add("gru x2 H=37 + head", o);
  o = {}; o.cell = CellType::rnn; o.num_layers = 2; o.head_size = 2; o.head_softmax = true;
  o.head_last_step_only = true; add("rnn x2 + last-step softmax head", o);
  o = {}; o.cell = CellType::lstm; o.num_layers = 2; o.proj_size = 4; o.hidden_size = 9;
  add("lstm x2 proj", o);
  return cs;
}

}  // namespace

// B = 17: run() computes x · W inside each step (lstm, rnn: 16+ rows), step() projects first;
// both must give the same bits (kernels/recurrent.hpp).
TEST_CASE("step over T steps equals run bit for bit") {
  const int64_t T = 9;
  for (const Case& c : cases()) {
    for (int64_t B : {1, 3, 17}) {
      CAPTURE(c.name);
      CAPTURE(B);
      const Model m = make_model(c.o);
      const int64_t I = m.input_size();
      const std::vector<float> x = random_values(static_cast<size_t>(T * B * I), 11);
      const RunOutput r0 = run_ok(m, RunInput{x.data(), T, B});
      const std::vector<float> h0 = random_values(r0.h_n.size(), 12, 0.5f);
      const std::vector<float> c0 = random_values(r0.c_n.size(), 13, 0.5f);
      RunInput in{x.data(), T, B};
      in.h0 = h0.data();
      in.c0 = c0.empty() ? nullptr : c0.data();
      const RunOutput r = run_ok(m, in);
      const Stepped s = step_all(m, x.data(), T, B, in.h0, in.c0);
      if (c.o.head_last_step_only) {
        // run's y is the last step's; step's y at the last step must match it.
        const int64_t O = m.output_size();
        std::vector<float> last(s.y.end() - B * O, s.y.end());
        require_same_bits(r.y, last);
      } else {
        require_same_bits(r.y, s.y);
      }
      require_same_bits(r.h_n, s.h);
      require_same_bits(r.c_n, s.c);
    }
  }
}

TEST_CASE("step: reset returns to the zero state and set/get round trip") {
  SpecOptions o;
  o.num_layers = 2;
  const Model m = make_model(o);
  const int64_t B = 2, I = m.input_size(), O = m.output_size();
  const std::vector<float> x = random_values(static_cast<size_t>(B * I), 3);
  Result<State> s = m.new_state(B);
  REQUIRE(s.ok());
  CHECK(s->batch() == B);
  std::vector<float> y1(static_cast<size_t>(B * O)), y2(y1.size());
  REQUIRE(m.step(*s, x.data(), y1.data()).ok());
  REQUIRE(m.step(*s, x.data(), y2.data()).ok());
  CHECK(std::memcmp(y1.data(), y2.data(), y1.size() * 4) != 0);  // the state moved
  s->reset();
  REQUIRE(m.step(*s, x.data(), y2.data()).ok());
  require_same_bits(y1, y2);

  const RunOutput probe = run_ok(m, RunInput{x.data(), 1, B});
  std::vector<float> h(probe.h_n.size()), c(probe.c_n.size());
  REQUIRE(s->get(h.data(), c.data()).ok());
  require_same_bits(h, probe.h_n);
  require_same_bits(c, probe.c_n);
  Result<State> s2 = m.new_state(B);
  REQUIRE(s2->set(h.data(), c.data()).ok());
  REQUIRE(m.step(*s, x.data(), y1.data()).ok());
  REQUIRE(m.step(*s2, x.data(), y2.data()).ok());
  require_same_bits(y1, y2);
}

TEST_CASE("mixed stack of lstm with projection then gru then rnn of different widths: step equals run") {
  // Layers of different cells and widths: the state tensors are (3, B, 9) and (3, B, 7), each
  // layer using the leading columns of its rows.
  SpecOptions a;
  a.cell = CellType::lstm;
  a.hidden_size = 7;
  a.proj_size = 3;
  a.peepholes = true;
  SpecOptions b;
  b.cell = CellType::gru;
  b.input_size = 3;
  b.hidden_size = 5;
  b.seed = 2;
  SpecOptions c;
  c.cell = CellType::rnn;
  c.input_size = 5;
  c.hidden_size = 9;
  c.head_size = 2;
  c.seed = 3;
  ModelSpec spec = random_spec(a);
  spec.layers.push_back(random_spec(b).layers[0]);
  const ModelSpec sc = random_spec(c);
  spec.layers.push_back(sc.layers[0]);
  spec.head = sc.head;
  Result<Model> m = Model::from_spec(spec);
  REQUIRE_MESSAGE(m.ok(), m.status().to_string());
  CHECK(m->num_state_rows() == 3);

  const int64_t T = 6, B = 2;
  const std::vector<float> x = random_values(static_cast<size_t>(T * B * 5), 4);
  std::vector<float> h0 = random_values(static_cast<size_t>(3 * B * 9), 5, 0.5f);
  std::vector<float> c0 = random_values(static_cast<size_t>(3 * B * 7), 6, 0.5f);
  RunInput in{x.data(), T, B};
  in.h0 = h0.data();
  in.c0 = c0.data();
  const RunOutput r = run_ok(*m, in);
  CHECK(r.h_shape == std::vector<int64_t>{3, B, 9});
  CHECK(r.c_shape == std::vector<int64_t>{3, B, 7});
  // Columns beyond a layer's width are zero; c rows of non-lstm layers are zero.
  for (int64_t b2 = 0; b2 < B; ++b2) {
    for (int64_t k = 3; k < 9; ++k) CHECK(r.h_n[static_cast<size_t>((0 * B + b2) * 9 + k)] == 0.0f);
    for (int64_t k = 5; k < 9; ++k) CHECK(r.h_n[static_cast<size_t>((1 * B + b2) * 9 + k)] == 0.0f);
    for (int64_t k = 0; k < 7; ++k) {
      CHECK(r.c_n[static_cast<size_t>((1 * B + b2) * 7 + k)] == 0.0f);
      CHECK(r.c_n[static_cast<size_t>((2 * B + b2) * 7 + k)] == 0.0f);
    }
  }
  const Stepped s = step_all(*m, x.data(), T, B, h0.data(), c0.data());
  require_same_bits(r.y, s.y);
  // State::set reads h0/c0 as run() does, so the final states agree in full (zero padding).
  require_same_bits(r.h_n, s.h);
  require_same_bits(r.c_n, s.c);
}

TEST_CASE("every ONNX activation streams: step equals run") {
  const char* names[] = {"Sigmoid", "Tanh", "Relu", "HardSigmoid", "LeakyRelu", "ThresholdedRelu",
                         "ScaledTanh", "Affine", "Elu", "Softsign", "Softplus"};
  for (const char* name : names) {
    CAPTURE(name);
    Activation act;
    REQUIRE(activation_with_defaults(name, act));
    SpecOptions o;
    o.cell = CellType::gru;
    o.activations = {act, {"Tanh", 0, 0}};
    o.num_layers = 2;
    const Model m = make_model(o);
    const int64_t T = 5, B = 2;
    const std::vector<float> x = random_values(static_cast<size_t>(T * B * m.input_size()), 8, 2.0f);
    const RunOutput r = run_ok(m, RunInput{x.data(), T, B});
    const Stepped s = step_all(m, x.data(), T, B);
    require_same_bits(r.y, s.y);
    require_same_bits(r.h_n, s.h);
  }
}
