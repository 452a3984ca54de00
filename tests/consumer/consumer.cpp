// Uses the installed recur: writes a one-layer GRU with the writer API, reads it back, and
// checks that the round trip kept it. Exits non-zero on any failure.
#include <cstdio>
#include <string>

#include <recur/format.hpp>

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
  std::printf("consumer: recur %u.%u round trip ok\n", back->info.version_major, back->info.version_minor);
  return 0;
}
