// make_service_model: writes a random stacked LSTM with a dense head, shaped like the example
// forecaster (default I=4, H=64, 2 layers, O=4, head on the last step), to load-test
// recur_serve without training anything. Weights uniform in ±1/sqrt(H), deterministic per seed.
#include <cmath>
#include <cstdio>
#include <random>

#include <CLI/CLI.hpp>

#include "recur/format.hpp"

int main(int argc, char** argv) {
  CLI::App app{"make_service_model: a random LSTM forecaster-shaped .recur model"};
  std::string out;
  int64_t input = 4, hidden = 64, output = 4;
  int layers = 2;
  bool every_step = false;
  unsigned seed = 7;
  app.add_option("out", out, "the .recur file to write")->required();
  app.add_option("--input", input, "input size I")->check(CLI::Range(int64_t{1}, int64_t{4096}));
  app.add_option("--hidden", hidden, "hidden size H")->check(CLI::Range(int64_t{1}, int64_t{4096}));
  app.add_option("--layers", layers, "stacked LSTM layers")->check(CLI::Range(1, 16));
  app.add_option("--output", output, "head output size O")->check(CLI::Range(int64_t{1}, int64_t{4096}));
  app.add_flag("--every-step", every_step, "head on every step (default: last step only)");
  app.add_option("--seed", seed, "random seed");
  CLI11_PARSE(app, argc, argv);

  std::mt19937 rng(seed);
  auto tensor = [&](std::vector<int64_t> shape, float scale) {
    recur::Tensor t = recur::make_tensor(std::move(shape));
    std::uniform_real_distribution<float> dist(-scale, scale);
    for (float& v : t.data) v = dist(rng);
    return t;
  };
  const float scale = 1.0f / std::sqrt(static_cast<float>(hidden));
  recur::ModelSpec spec;
  spec.name = "service-bench-lstm";
  spec.producer = "recur make_service_model";
  spec.batch_first = true;
  int64_t in = input;
  for (int l = 0; l < layers; ++l) {
    recur::RecurrentLayer layer;
    layer.cell = recur::CellType::lstm;
    layer.input_size = in;
    layer.hidden_size = hidden;
    recur::DirectionWeights w;
    w.W = tensor({4 * hidden, in}, scale);  // gates i, f, g, o stacked
    w.R = tensor({4 * hidden, hidden}, scale);
    w.Wb = tensor({4 * hidden}, scale);
    w.Rb = tensor({4 * hidden}, scale);
    layer.weights.push_back(std::move(w));
    spec.layers.push_back(std::move(layer));
    in = hidden;
  }
  recur::DenseHead head;
  head.input_size = hidden;
  head.output_size = output;
  head.last_step_only = !every_step;
  head.W = tensor({output, hidden}, scale);
  head.b = tensor({output}, scale);
  spec.head = std::move(head);

  if (recur::Status s = recur::write_model(spec, out); !s.ok()) {
    std::fprintf(stderr, "make_service_model: %s\n", s.to_string().c_str());
    return 1;
  }
  std::printf("wrote %s (I=%lld H=%lld layers=%d O=%lld, %lld parameters)\n", out.c_str(),
              static_cast<long long>(input), static_cast<long long>(hidden), layers,
              static_cast<long long>(output), static_cast<long long>(spec.parameter_count()));
  return 0;
}
