// Writes a small 2-layer LSTM forecaster with a dense head using the writer API — a model to
// try the CLI on without any converter. Weights are deterministic pseudo-random values.
#include <cmath>
#include <cstdio>
#include <random>

#include "recur/format.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT.recur\n", argv[0]);
    return 2;
  }
  constexpr int64_t kInput = 4, kHidden = 32, kOutput = 4;
  std::mt19937 rng(42);
  auto tensor = [&](std::vector<int64_t> shape, float scale) {
    recur::Tensor t = recur::make_tensor(std::move(shape));
    std::uniform_real_distribution<float> dist(-scale, scale);
    for (float& v : t.data) v = dist(rng);
    return t;
  };
  const float scale = 1.0f / std::sqrt(static_cast<float>(kHidden));

  recur::ModelSpec spec;
  spec.name = "tiny-lstm";
  spec.producer = "recur make_tiny_model";
  int64_t in = kInput;
  for (int l = 0; l < 2; ++l) {
    recur::RecurrentLayer layer;
    layer.cell = recur::CellType::lstm;
    layer.input_size = in;
    layer.hidden_size = kHidden;
    recur::DirectionWeights w;
    w.W = tensor({4 * kHidden, in}, scale);        // gates i, f, g, o stacked
    w.R = tensor({4 * kHidden, kHidden}, scale);
    w.Wb = tensor({4 * kHidden}, scale);
    w.Rb = tensor({4 * kHidden}, scale);
    layer.weights.push_back(std::move(w));
    spec.layers.push_back(std::move(layer));
    in = kHidden;
  }
  recur::DenseHead head;
  head.input_size = kHidden;
  head.output_size = kOutput;
  head.W = tensor({kOutput, kHidden}, scale);
  head.b = tensor({kOutput}, scale);
  spec.head = std::move(head);

  if (recur::Status s = recur::write_model(spec, argv[1]); !s.ok()) {
    std::fprintf(stderr, "make_tiny_model: %s\n", s.to_string().c_str());
    return 1;
  }
  std::printf("wrote %s (%lld parameters)\n", argv[1], static_cast<long long>(spec.parameter_count()));
  return 0;
}
