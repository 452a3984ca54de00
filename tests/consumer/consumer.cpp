// Uses the installed recur: writes a one-layer GRU with the writer API, reads it back, checks
// that the round trip kept it, then runs it through the C++ and the C API (so each half of the
// exported API links). Exits non-zero on any failure.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <recur/format.hpp>
#include <recur/model.hpp>
#include <recur/recur.h>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::string path = argv[1];
  recur::ModelSpec spec;
  spec.name = "consumer";
  recur::RecurrentLayer gru;
  gru.cell = recur::CellType::gru;
  gru.input_size = 3;
  gru.hidden_size = 5;
  recur::DirectionWeights w;
  w.W = recur::make_tensor({15, 3}, 0.25f);
  w.R = recur::make_tensor({15, 5}, -0.5f);
  w.Wb = recur::make_tensor({15}, 0.125f);
  w.Rb = recur::make_tensor({15}, 0.0f);
  gru.weights.push_back(w);
  spec.layers.push_back(gru);
  if (recur::Status s = recur::write_model(spec, path); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.to_string().c_str());
    return 1;
  }
  recur::Result<recur::ModelFile> back = recur::read_model(path);
  if (!back.ok() || !(back->spec == spec)) {
    std::fprintf(stderr, "round trip failed: %s\n", back.status().to_string().c_str());
    return 1;
  }
  recur::Result<recur::Model> model = recur::Model::load(path);
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", model.status().to_string().c_str());
    return 1;
  }
  const float x[2 * 3] = {1, 2, 3, 4, 5, 6};
  recur::RunInput input;
  input.x = x;
  input.seq_len = 2;
  input.batch = 1;
  recur::Result<recur::RunOutput> out = model->run(input);
  if (!out.ok()) {
    std::fprintf(stderr, "%s\n", out.status().to_string().c_str());
    return 1;
  }
  if (out->y_shape != std::vector<int64_t>{2, 1, 5}) {
    std::fprintf(stderr, "run: y has the wrong shape\n");
    return 1;
  }
  recur_model* c_model = nullptr;
  if (recur_model_load(path.c_str(), &c_model) != RECUR_OK ||
      recur_model_output_size(c_model) != 5) {
    std::fprintf(stderr, "C API load failed: %s\n", recur_last_error());
    return 1;
  }
  recur_model_free(c_model);
  std::printf("consumer: recur %u.%u round trip and run ok\n", back->info.version_major,
              back->info.version_minor);
  return 0;
}
