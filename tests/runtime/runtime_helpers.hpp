// Helpers shared by the runtime tests: build a Model from a random spec, run it, step it.
#pragma once

#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "recur/model.hpp"
#include "support/random_spec.hpp"

namespace recur::test {

inline Model make_model(const SpecOptions& o) {
  Result<Model> m = Model::from_spec(random_spec(o));
  REQUIRE_MESSAGE(m.ok(), m.status().to_string());
  return std::move(m).value();
}

// Runs x (T, B, I) time-major; REQUIREs success.
inline RunOutput run_ok(const Model& m, const RunInput& in, const RunOptions& opt = {}) {
  Result<RunOutput> r = m.run(in, opt);
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  return std::move(r).value();
}

// Steps a fresh state over x (T, B, I) time-major; returns y per step (T, B, out) and the
// final state (h, c) as State::get gives them.
struct Stepped {
  std::vector<float> y, h, c;
};
inline Stepped step_all(const Model& m, const float* x, int64_t T, int64_t B,
                        const float* h0 = nullptr, const float* c0 = nullptr,
                        const RunOptions& opt = {}) {
  Result<State> s = m.new_state(B);
  REQUIRE_MESSAGE(s.ok(), s.status().to_string());
  if (h0 || c0) REQUIRE(s->set(h0, c0).ok());
  const int64_t I = m.input_size(), O = m.output_size();
  Stepped out;
  out.y.resize(static_cast<size_t>(T * B * O));
  for (int64_t t = 0; t < T; ++t) {
    Status st = m.step(*s, x + t * B * I, out.y.data() + t * B * O, opt);
    REQUIRE_MESSAGE(st.ok(), st.to_string());
  }
  const RunOutput probe = run_ok(m, RunInput{x, 1, B}, opt);  // only for the state sizes
  out.h.resize(probe.h_n.size());
  out.c.resize(probe.c_n.size());
  REQUIRE(s->get(out.h.data(), out.c.empty() ? nullptr : out.c.data()).ok());
  return out;
}

// Exact equality of float arrays (bit for bit, NaN-free data).
inline void require_same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  if (a.empty()) return;  // memcmp must not see the null data() of an empty vector
  CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

}  // namespace recur::test
