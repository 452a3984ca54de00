// Property test: recur::Model::run agrees with the fp64 reference (tests/reference) on random
// models and inputs — every cell, direction, stack (mixed cells and widths), option (proj_size,
// peepholes, input_forget, clip, linear_before_reset, ONNX activations with alpha/beta), head
// (softmax, last step only), lengths (0..T), h0/c0, batch_first — over shapes with primes and
// tails (H = 1, 3, 16, 17, 34; I = 1; T = 1 .. 200; B = 1, 3, 7), on every ISA the CPU supports
// (avx512, avx2, scalar), with 1 and 2 threads. Forward-only models are also streamed with
// Model::step and compared step by step. Tolerance |got - want| <= 1e-5 + 1e-4 |want|.
// Seeded: every scenario is reproducible from its seed, printed on failure.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "recur/model.hpp"
#include "tests/reference/compare.hpp"
#include "tests/reference/reference.hpp"

namespace {

using namespace recur;

// What one layer of a scenario looks like.
struct LayerChoice {
  CellType cell = CellType::lstm;
  Direction direction = Direction::forward;
  int64_t hidden = 7;
  int64_t proj = 0;
  bool peepholes = false;
  bool input_forget = false;
  bool linear_before_reset = false;
  float clip = 0.0f;
  bool exotic_activations = false;  // random ONNX activations with random alpha/beta
};

struct Choice {
  std::vector<LayerChoice> layers;
  int64_t I = 5, T = 5, B = 3;
  int64_t head = 0;  // output size; 0 = no head
  bool softmax = false;
  bool last_step_only = false;
  bool batch_first = false;
  bool lengths = false;
  bool h0 = false;
  bool c0 = false;
  int threads = 1;
};

std::string describe(const Choice& c) {
  std::ostringstream s;
  s << "I=" << c.I << " T=" << c.T << " B=" << c.B << (c.batch_first ? " batch_first" : "")
    << (c.lengths ? " lengths" : "") << (c.h0 ? " h0" : "") << (c.c0 ? " c0" : "")
    << " threads=" << c.threads << " layers:";
  for (const LayerChoice& l : c.layers) {
    s << " [" << cell_name(l.cell) << " " << direction_name(l.direction) << " H=" << l.hidden;
    if (l.proj) s << " proj=" << l.proj;
    if (l.peepholes) s << " peep";
    if (l.input_forget) s << " cifg";
    if (l.linear_before_reset) s << " lbr";
    if (l.clip > 0) s << " clip=" << l.clip;
    if (l.exotic_activations) s << " acts";
    s << "]";
  }
  if (c.head) s << " head=" << c.head << (c.softmax ? " softmax" : "") << (c.last_step_only ? " last" : "");
  return s.str();
}

float uniform(std::mt19937& rng, float lo, float hi) {
  return std::uniform_real_distribution<float>(lo, hi)(rng);
}
int64_t pick(std::mt19937& rng, std::initializer_list<int64_t> values) {
  std::vector<int64_t> v(values);
  return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
}
bool chance(std::mt19937& rng, double p) { return std::bernoulli_distribution(p)(rng); }

Tensor random_tensor(std::vector<int64_t> shape, float scale, std::mt19937& rng) {
  Tensor t;
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  t.shape = std::move(shape);
  t.data.resize(static_cast<size_t>(n));
  for (float& v : t.data) v = uniform(rng, -scale, scale);
  return t;
}

// A random ONNX activation with parameters in ranges that keep a short recurrence bounded.
Activation random_activation(std::mt19937& rng) {
  static const char* const kNames[] = {"Sigmoid", "Tanh", "Relu", "HardSigmoid", "LeakyRelu",
                                       "ThresholdedRelu", "ScaledTanh", "Affine", "Elu",
                                       "Softsign", "Softplus"};
  const std::string name = kNames[std::uniform_int_distribution<int>(0, 10)(rng)];
  Activation a{name, 0.0f, 0.0f};
  if (name == "HardSigmoid") a = {name, uniform(rng, 0.1f, 0.5f), uniform(rng, 0.3f, 0.7f)};
  if (name == "LeakyRelu") a = {name, uniform(rng, 0.0f, 0.5f), 0.0f};
  if (name == "ThresholdedRelu") a = {name, uniform(rng, 0.0f, 0.3f), 0.0f};
  if (name == "ScaledTanh") a = {name, uniform(rng, 0.5f, 1.5f), uniform(rng, 0.5f, 1.5f)};
  if (name == "Affine") a = {name, uniform(rng, 0.5f, 1.2f), uniform(rng, -0.2f, 0.2f)};
  if (name == "Elu") a = {name, uniform(rng, 0.5f, 1.5f), 0.0f};
  return a;
}

Choice random_choice(std::mt19937& rng) {
  Choice c;
  const bool long_seq = chance(rng, 0.08);
  c.T = long_seq ? pick(rng, {120, 200}) : pick(rng, {1, 2, 5, 9});
  c.B = pick(rng, {1, 3, 7});
  c.I = pick(rng, {1, 5, 17});
  const int layers = static_cast<int>(pick(rng, {1, 1, 1, 2, 2, 3}));
  for (int l = 0; l < layers; ++l) {
    LayerChoice lc;
    lc.cell = static_cast<CellType>(pick(rng, {0, 1, 2}));
    lc.direction = static_cast<Direction>(pick(rng, {0, 1, 2}));
    lc.hidden = pick(rng, {1, 3, 16, 17, 34});
    if (lc.cell == CellType::lstm) {
      if (chance(rng, 0.25)) lc.proj = std::uniform_int_distribution<int64_t>(1, lc.hidden)(rng);
      lc.peepholes = chance(rng, 0.3);
      lc.input_forget = chance(rng, 0.2);
    }
    if (lc.cell == CellType::gru) lc.linear_before_reset = chance(rng, 0.5);
    if (chance(rng, 0.2)) lc.clip = uniform(rng, 0.2f, 3.0f);
    // Unbounded activations over hundreds of steps would measure chaos, not correctness.
    lc.exotic_activations = !long_seq && chance(rng, 0.3);
    c.layers.push_back(lc);
  }
  if (chance(rng, 0.4)) {
    c.head = pick(rng, {1, 2, 5});
    c.softmax = chance(rng, 0.5);
    c.last_step_only = chance(rng, 0.3);
  }
  c.batch_first = chance(rng, 0.3);
  c.lengths = chance(rng, 0.35);
  c.h0 = chance(rng, 0.3);
  c.c0 = chance(rng, 0.3);
  c.threads = static_cast<int>(pick(rng, {1, 2}));
  return c;
}

struct Scenario {
  ModelSpec spec;
  reference::Input input;
  int threads = 1;
};

Scenario build(const Choice& c, std::mt19937& rng) {
  Scenario s;
  s.spec.name = "property";
  s.spec.batch_first = c.batch_first;
  int64_t in = c.I;
  int64_t rows = 0, h_width = 0, c_width = 0;
  for (const LayerChoice& lc : c.layers) {
    RecurrentLayer layer;
    layer.cell = lc.cell;
    layer.direction = lc.direction;
    layer.input_size = in;
    layer.hidden_size = lc.hidden;
    layer.proj_size = lc.proj;
    layer.peepholes = lc.peepholes;
    layer.input_forget = lc.input_forget;
    layer.linear_before_reset = lc.linear_before_reset;
    layer.clip = lc.clip;
    const int dirs = direction_count(lc.direction);
    if (lc.exotic_activations) {
      for (int k = 0; k < activation_count(lc.cell) * dirs; ++k) layer.activations.push_back(random_activation(rng));
    }
    const int64_t gh = gate_count(lc.cell) * lc.hidden;
    const int64_t hout = layer.output_size();
    const float scale = 1.0f / std::sqrt(static_cast<float>(lc.hidden));
    for (int d = 0; d < dirs; ++d) {
      DirectionWeights w;
      w.W = random_tensor({gh, in}, scale, rng);
      w.R = random_tensor({gh, hout}, scale, rng);
      w.Wb = random_tensor({gh}, scale, rng);
      w.Rb = random_tensor({gh}, scale, rng);
      if (lc.peepholes) w.P = random_tensor({3 * lc.hidden}, scale, rng);
      if (lc.proj) w.Wp = random_tensor({hout, lc.hidden}, scale, rng);
      layer.weights.push_back(std::move(w));
    }
    rows += dirs;
    h_width = std::max(h_width, hout);
    if (lc.cell == CellType::lstm) c_width = std::max(c_width, lc.hidden);
    in = layer.output_width();
    s.spec.layers.push_back(std::move(layer));
  }
  if (c.head) {
    DenseHead head;
    head.input_size = in;
    head.output_size = c.head;
    head.softmax = c.softmax;
    head.last_step_only = c.last_step_only;
    const float scale = 1.0f / std::sqrt(static_cast<float>(in));
    head.W = random_tensor({c.head, in}, scale, rng);
    head.b = random_tensor({c.head}, scale, rng);
    s.spec.head = std::move(head);
  }
  s.input.seq_len = c.T;
  s.input.batch = c.B;
  s.input.batch_first = c.batch_first;
  s.input.x = random_tensor({c.T, c.B, c.I}, 1.0f, rng).data;
  if (c.h0) s.input.h0 = random_tensor({rows, c.B, h_width}, 0.5f, rng).data;
  if (c.c0 && c_width > 0) s.input.c0 = random_tensor({rows, c.B, c_width}, 0.5f, rng).data;
  if (c.lengths) {
    for (int64_t b = 0; b < c.B; ++b) {
      // Mostly anywhere in [0, T]; the ends 0 and T on purpose now and then.
      int64_t L = std::uniform_int_distribution<int64_t>(0, c.T)(rng);
      if (b == 0) L = c.T;
      if (b == 1 && chance(rng, 0.5)) L = 0;
      s.input.lengths.push_back(static_cast<int32_t>(L));
    }
  }
  s.threads = c.threads;
  return s;
}

// Scenarios that must always be present, whatever the random draw: each cell x direction with
// every option on at H=17, B=7; long sequences; the degenerate sizes I=1, T=1, B=1.
std::vector<Choice> fixed_choices() {
  std::vector<Choice> out;
  for (CellType cell : {CellType::rnn, CellType::lstm, CellType::gru}) {
    for (Direction dir : {Direction::forward, Direction::reverse, Direction::bidirectional}) {
      Choice c;
      c.I = 5;
      c.T = 9;
      c.B = 7;
      LayerChoice l;
      l.cell = cell;
      l.direction = dir;
      l.hidden = 17;
      l.clip = 2.5f;
      if (cell == CellType::lstm) {
        l.proj = 6;
        l.peepholes = true;
      }
      if (cell == CellType::gru) l.linear_before_reset = dir != Direction::reverse;
      c.layers.push_back(l);
      LayerChoice second = l;
      second.hidden = 34;
      second.proj = 0;
      second.clip = 0.0f;
      second.input_forget = cell == CellType::lstm;
      c.layers.push_back(second);
      c.head = 3;
      c.softmax = true;
      c.lengths = true;
      c.h0 = true;
      c.c0 = true;
      c.batch_first = dir == Direction::reverse;
      c.threads = 2;
      out.push_back(c);
    }
    Choice longc;
    longc.I = 17;
    longc.T = 200;
    longc.B = 7;
    LayerChoice l;
    l.cell = cell;
    l.direction = Direction::bidirectional;
    l.hidden = 34;
    longc.layers.push_back(l);
    longc.lengths = true;
    longc.h0 = true;
    longc.c0 = true;
    longc.threads = 2;
    out.push_back(longc);

    Choice tiny;
    tiny.I = 1;
    tiny.T = 1;
    tiny.B = 1;
    LayerChoice t;
    t.cell = cell;
    t.hidden = 1;
    tiny.layers.push_back(t);
    tiny.head = 1;
    tiny.last_step_only = true;
    out.push_back(tiny);
  }
  // Mixed stack of all three cells with different widths.
  Choice mixed;
  mixed.I = 3;
  mixed.T = 7;
  mixed.B = 7;
  mixed.layers.push_back({CellType::gru, Direction::bidirectional, 17, 0, false, false, true, 0.0f, false});
  mixed.layers.push_back({CellType::lstm, Direction::reverse, 16, 5, true, false, false, 0.0f, false});
  mixed.layers.push_back({CellType::rnn, Direction::forward, 34, 0, false, false, false, 0.0f, false});
  mixed.h0 = mixed.c0 = mixed.lengths = true;
  mixed.head = 2;
  mixed.last_step_only = true;
  mixed.threads = 2;
  out.push_back(mixed);
  return out;
}

RunInput run_input(const reference::Input& in) {
  RunInput r;
  r.x = in.x.data();
  r.seq_len = in.seq_len;
  r.batch = in.batch;
  r.layout = in.batch_first ? Layout::batch_first : Layout::time_major;
  r.h0 = in.h0.empty() ? nullptr : in.h0.data();
  r.c0 = in.c0.empty() ? nullptr : in.c0.data();
  r.lengths = in.lengths.empty() ? nullptr : in.lengths.data();
  return r;
}

// Streams x through Model::step one time step at a time from the scenario's h0/c0 and checks
// each step's y and the final state against the reference's run (forward-only models without
// lengths; a last-step-only head is compared at the last step, where step and run agree).
void check_streaming(const Model& model, const Scenario& s, const reference::Output& want) {
  const int64_t T = s.input.seq_len, B = s.input.batch, I = model.input_size();
  const int64_t O = model.output_size();
  auto state = model.new_state(B);
  REQUIRE_MESSAGE(state.ok(), state.status().to_string());
  const Status set = state->set(s.input.h0.empty() ? nullptr : s.input.h0.data(),
                                s.input.c0.empty() ? nullptr : s.input.c0.data());
  REQUIRE_MESSAGE(set.ok(), set.to_string());
  const bool last_only = s.spec.head && s.spec.head->last_step_only;
  std::vector<float> x_t(static_cast<size_t>(B * I)), y_t(static_cast<size_t>(B * O));
  std::vector<float> got_y;
  std::vector<double> want_y;
  RunOptions ro;
  ro.threads = s.threads;
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t b = 0; b < B; ++b) {
      const int64_t src = s.input.batch_first ? (b * T + t) * I : (t * B + b) * I;
      std::copy(s.input.x.begin() + src, s.input.x.begin() + src + I, x_t.begin() + b * I);
    }
    const Status st = model.step(*state, x_t.data(), y_t.data(), ro);
    REQUIRE_MESSAGE(st.ok(), st.to_string());
    if (last_only && t + 1 < T) continue;
    for (int64_t b = 0; b < B; ++b) {
      const int64_t src = last_only ? b * O : (s.input.batch_first ? (b * T + t) * O : (t * B + b) * O);
      for (int64_t o = 0; o < O; ++o) {
        got_y.push_back(y_t[static_cast<size_t>(b * O + o)]);
        want_y.push_back(want.y[static_cast<size_t>(src + o)]);
      }
    }
  }
  std::vector<float> h(want.h_n.size()), c(want.c_n.size());
  REQUIRE(state->get(h.data(), c.empty() ? nullptr : c.data()).ok());
  const std::string ey = test::compare_arrays("step y", got_y, want_y);
  const std::string eh = test::compare_arrays("step h", h, want.h_n);
  const std::string ec = test::compare_arrays("step c", c, want.c_n);
  CHECK_MESSAGE(ey.empty(), ey);
  CHECK_MESSAGE(eh.empty(), eh);
  CHECK_MESSAGE(ec.empty(), ec);
}

bool streamable(const Scenario& s) {
  if (!s.input.lengths.empty() || s.input.seq_len == 0) return false;
  for (const RecurrentLayer& l : s.spec.layers) {
    if (l.direction != Direction::forward) return false;
  }
  return true;
}

constexpr int kRandomScenarios = 160;
constexpr uint32_t kSeedBase = 20261123;

}  // namespace

TEST_CASE("runtime property: Model::run matches the fp64 reference on random models, every ISA") {
  std::vector<Choice> choices = fixed_choices();
  const size_t fixed = choices.size();
  std::mt19937 chooser(kSeedBase);
  for (int i = 0; i < kRandomScenarios; ++i) choices.push_back(random_choice(chooser));

  const Isa isas[] = {Isa::avx512, Isa::avx2, Isa::scalar};
  int compared[3] = {0, 0, 0};
  int streamed[3] = {0, 0, 0};
  bool skipped[3] = {false, false, false};
  for (size_t n = 0; n < choices.size(); ++n) {
    const uint32_t seed = kSeedBase + static_cast<uint32_t>(n);
    std::mt19937 rng(seed);
    const Scenario s = build(choices[n], rng);
    const std::string what = "scenario " + std::to_string(n) + (n < fixed ? " (fixed)" : " (random)") +
                             " seed " + std::to_string(seed) + ": " + describe(choices[n]);
    CAPTURE(what);
    REQUIRE_MESSAGE(validate(s.spec).ok(), validate(s.spec).to_string());
    const auto want = reference::run(s.spec, s.input);
    REQUIRE_MESSAGE(want.ok(), want.status().to_string());
    for (int k = 0; k < 3; ++k) {
      if (skipped[k]) continue;
      const std::string isa = isa_name(isas[k]);
      CAPTURE(isa);
      LoadOptions lo;
      lo.isa = isas[k];
      auto model = Model::from_spec(s.spec, lo);
      if (!model.ok() && model.status().code() == Errc::unsupported) {
        skipped[k] = true;
        continue;
      }
      REQUIRE_MESSAGE(model.ok(), model.status().to_string());
      RunOptions ro;
      ro.threads = s.threads;
      auto got = model->run(run_input(s.input), ro);
      REQUIRE_MESSAGE(got.ok(), got.status().to_string());
      CHECK(got->y_shape == want->y_shape);
      CHECK(got->h_shape == want->h_shape);
      CHECK(got->c_shape == want->c_shape);
      const std::string y = test::compare_arrays("y", got->y, want->y);
      const std::string h = test::compare_arrays("h_n", got->h_n, want->h_n);
      const std::string c = test::compare_arrays("c_n", got->c_n, want->c_n);
      CHECK_MESSAGE(y.empty(), y);
      CHECK_MESSAGE(h.empty(), h);
      CHECK_MESSAGE(c.empty(), c);
      ++compared[k];
      if (streamable(s)) {
        check_streaming(model.value(), s, want.value());
        ++streamed[k];
      }
    }
  }
  for (int k = 0; k < 3; ++k) {
    const std::string isa = isa_name(isas[k]);
    if (skipped[k]) {
      MESSAGE("ISA " << isa << " not supported by this CPU: skipped");
    } else {
      MESSAGE("ISA " << isa << ": " << compared[k] << " scenarios compared with the reference ("
                     << streamed[k] << " also streamed with step)");
    }
  }
  CHECK(!skipped[2]);  // scalar is always available
}
