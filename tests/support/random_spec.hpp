// Random ModelSpecs for tests: any cell, direction, stack depth and option, with weights drawn
// uniformly from ±1/sqrt(H) as PyTorch initializes them. Deterministic for a given seed.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "recur/spec.hpp"

namespace recur::test {

struct SpecOptions {
  CellType cell = CellType::lstm;
  Direction direction = Direction::forward;
  int64_t input_size = 5;
  int64_t hidden_size = 7;
  int num_layers = 1;
  int64_t proj_size = 0;        // lstm only
  bool peepholes = false;       // lstm only
  bool input_forget = false;    // lstm only
  float clip = 0.0f;
  bool linear_before_reset = false;  // gru only
  std::vector<Activation> activations;  // per layer, as RecurrentLayer::activations
  int64_t head_size = 0;        // > 0 adds a dense head
  bool head_softmax = false;
  bool head_last_step_only = false;
  bool batch_first = false;
  uint32_t seed = 1;
};

inline Tensor random_tensor(std::vector<int64_t> shape, float scale, std::mt19937& rng) {
  Tensor t = make_tensor(std::move(shape));
  std::uniform_real_distribution<float> dist(-scale, scale);
  for (float& v : t.data) v = dist(rng);
  return t;
}

inline ModelSpec random_spec(const SpecOptions& o) {
  std::mt19937 rng(o.seed);
  ModelSpec spec;
  spec.name = "random";
  spec.producer = "recur tests";
  spec.batch_first = o.batch_first;
  const float scale = 1.0f / std::sqrt(static_cast<float>(o.hidden_size));
  int64_t in = o.input_size;
  for (int l = 0; l < o.num_layers; ++l) {
    RecurrentLayer layer;
    layer.cell = o.cell;
    layer.direction = o.direction;
    layer.input_size = in;
    layer.hidden_size = o.hidden_size;
    layer.proj_size = o.proj_size;
    layer.peepholes = o.peepholes;
    layer.input_forget = o.input_forget;
    layer.clip = o.clip;
    layer.linear_before_reset = o.linear_before_reset;
    layer.activations = o.activations;
    const int64_t gh = gate_count(o.cell) * o.hidden_size;
    const int64_t hout = layer.output_size();
    for (int d = 0; d < direction_count(o.direction); ++d) {
      DirectionWeights w;
      w.W = random_tensor({gh, in}, scale, rng);
      w.R = random_tensor({gh, hout}, scale, rng);
      w.Wb = random_tensor({gh}, scale, rng);
      w.Rb = random_tensor({gh}, scale, rng);
      if (o.peepholes) w.P = random_tensor({3 * o.hidden_size}, scale, rng);
      if (o.proj_size > 0) w.Wp = random_tensor({hout, o.hidden_size}, scale, rng);
      layer.weights.push_back(std::move(w));
    }
    in = layer.output_width();
    spec.layers.push_back(std::move(layer));
  }
  if (o.head_size > 0) {
    DenseHead head;
    head.input_size = in;
    head.output_size = o.head_size;
    head.softmax = o.head_softmax;
    head.last_step_only = o.head_last_step_only;
    const float hs = 1.0f / std::sqrt(static_cast<float>(in));
    head.W = random_tensor({o.head_size, in}, hs, rng);
    head.b = random_tensor({o.head_size}, hs, rng);
    spec.head = std::move(head);
  }
  return spec;
}

// Random values in [-scale, scale] for inputs.
inline std::vector<float> random_values(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

}  // namespace recur::test
