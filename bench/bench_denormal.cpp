// Step time with subnormal inputs, state or weights against the same step with normal values
// (issue 7: denormals must not slow a step down by orders of magnitude). recur sets FTZ/DAZ in
// every worker; these rows show the ratio report.sh prints. Both kernel families are measured:
// the fused gate-panel kernels and the reference kernels (an LSTM with clip runs those).
#include <cfloat>
#include <cmath>

#include "bench/bench_common.hpp"
#include "recur/model.hpp"

namespace recur::bench {

namespace {

constexpr int64_t kH = 256;

enum class Values { normal, subnormal_inputs, subnormal_weights };

const char* values_name(Values v) {
  switch (v) {
    case Values::normal: return "normal";
    case Values::subnormal_inputs: return "subnormal_inputs";
    case Values::subnormal_weights: return "subnormal_weights";
  }
  return "?";
}

// Values of magnitude in [FLT_TRUE_MIN, FLT_MIN): every one subnormal, signs mixed.
std::vector<float> subnormal_floats(size_t n, uint32_t seed) {
  std::vector<float> v = random_floats(n, seed, 1.0f);
  for (float& x : v) x = std::copysign(FLT_MIN * (0.01f + 0.98f * std::fabs(x)), x);
  return v;
}

ModelSpec make_spec(bool reference_kernels, Values values) {
  ModelSpec spec = one_layer_spec(CellType::lstm, kH, kH, 1.0f / std::sqrt(float(kH)));
  RecurrentLayer& l = spec.layers[0];
  if (reference_kernels) l.clip = 50.0f;  // clip is outside the fused kernels
  if (values == Values::subnormal_weights) {
    uint32_t seed = 1;
    for (Tensor* t : {&l.weights[0].W, &l.weights[0].R, &l.weights[0].Wb, &l.weights[0].Rb}) {
      t->data = subnormal_floats(t->data.size(), seed++);
    }
  }
  return spec;
}

// One step at B=1, 1 thread, from the same state every iteration (set before each step, in both
// variants, so every step sees the chosen values rather than what the previous step left).
void bench_step(benchmark::State& state, bool reference_kernels, Values values) {
  Result<Model> m = Model::from_spec(make_spec(reference_kernels, values));
  if (!m.ok()) {
    state.SkipWithError(m.status().to_string().c_str());
    return;
  }
  Result<State> s = m->new_state(1);
  if (!s.ok()) {
    state.SkipWithError(s.status().to_string().c_str());
    return;
  }
  const bool tiny = values == Values::subnormal_inputs;
  const std::vector<float> x = tiny ? subnormal_floats(kH, 5) : random_floats(kH, 5, 1.0f);
  const std::vector<float> h = tiny ? subnormal_floats(kH, 6) : random_floats(kH, 6, 0.5f);
  const std::vector<float> c = tiny ? subnormal_floats(kH, 7) : random_floats(kH, 7, 0.5f);
  std::vector<float> y(static_cast<size_t>(kH));
  RunOptions opt;
  opt.threads = 1;
  for (auto _ : state) {
    Status st = s->set(h.data(), c.data());
    if (st.ok()) st = m->step(*s, x.data(), y.data(), opt);
    if (!st.ok()) {
      state.SkipWithError(st.to_string().c_str());
      return;
    }
    benchmark::DoNotOptimize(y.data());
  }
}

}  // namespace

void register_denormal(bool) {
  for (bool reference : {false, true}) {
    for (Values v : {Values::normal, Values::subnormal_inputs, Values::subnormal_weights}) {
      const std::string name = std::string("denormal/") + (reference ? "reference" : "fused") +
                               "/" + values_name(v) + "/H:" + std::to_string(kH);
      benchmark::RegisterBenchmark(name.c_str(), bench_step, reference, v)
          ->Unit(benchmark::kMicrosecond)
          ->UseRealTime();
    }
  }
}

}  // namespace recur::bench
