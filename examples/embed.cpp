// The README's embedding example, compiled with the project so it stays true.
#include <recur/model.hpp>
#include <cstdio>
#include <vector>

int main() {
  auto model = recur::Model::load("forecaster.recur");   // validate + pack once; share freely
  if (!model.ok()) { std::fprintf(stderr, "%s\n", model.status().to_string().c_str()); return 1; }

  // Whole sequences: x in the layout the model was converted with — (B, T, I) for this
  // batch-first PyTorch model; RunInput::layout = Layout::time_major / batch_first overrides.
  std::vector<float> x(30 * 1 * model->input_size(), 0.0f);
  recur::RunInput in{x.data(), /*seq_len=*/30, /*batch=*/1};
  recur::RunOptions options;
  options.threads = 1;                                    // 0 = all CPUs available
  auto out = model->run(in, options);                     // out->y, out->h_n, out->c_n
  if (!out.ok()) return 1;

  // Streaming: one State per stream, one step per new observation, no allocation per step.
  auto state = model->new_state(/*batch=*/1);
  std::vector<float> y(model->output_size());
  for (int t = 0; t < 30; ++t)
    if (auto s = model->step(*state, &x[t * model->input_size()], y.data()); !s.ok()) return 1;
  std::printf("y[0] = %f\n", y[0]);
}
