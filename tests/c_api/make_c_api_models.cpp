// Writes the models the C API test loads (C cannot build a ModelSpec):
//   DIR/lstm.recur  2-layer LSTM (I=5, H=7, peepholes) + dense head of 3, forward
//   DIR/gru.recur   1-layer GRU (I=5, H=7), forward, no head
//   DIR/bidir.recur 1-layer bidirectional LSTM (streaming is unsupported)
// Usage: make_c_api_models DIR
#include <cstdio>
#include <string>

#include "recur/format.hpp"
#include "support/random_spec.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_c_api_models DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  recur::test::SpecOptions lstm;
  lstm.num_layers = 2;
  lstm.peepholes = true;
  lstm.head_size = 3;
  recur::test::SpecOptions gru;
  gru.cell = recur::CellType::gru;
  gru.seed = 2;
  recur::test::SpecOptions bidir;
  bidir.direction = recur::Direction::bidirectional;
  bidir.seed = 3;
  const std::pair<const char*, recur::test::SpecOptions> models[] = {
      {"lstm.recur", lstm}, {"gru.recur", gru}, {"bidir.recur", bidir}};
  for (const auto& [name, options] : models) {
    const recur::Status s = recur::write_model(recur::test::random_spec(options), dir + "/" + name);
    if (!s.ok()) {
      std::fprintf(stderr, "%s: %s\n", name, s.to_string().c_str());
      return 1;
    }
  }
  return 0;
}
