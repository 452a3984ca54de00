// recur_bench entry: registers the problems (all standard shapes, or a subset with --quick)
// and records the machine in the benchmark context.
#include <omp.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "bench/bench_common.hpp"
#include "recur/model.hpp"

namespace recur::bench {

std::vector<Problem> standard_problems(bool quick) {
  struct Shape {
    int64_t I, H, T;
  };
  const std::vector<Shape> lstm = {{8, 64, 50},       {256, 256, 100},   {512, 512, 100},
                                   {512, 512, 25},    {1024, 1024, 50},  {1536, 1536, 50},
                                   {240, 1024, 50}};
  const std::vector<Shape> lstm_quick = {{8, 64, 50}, {256, 256, 100}, {512, 512, 100},
                                         {1024, 1024, 50}};
  const std::vector<int64_t> batches = quick ? std::vector<int64_t>{1, 64}
                                             : std::vector<int64_t>{1, 4, 16, 64};
  std::vector<Problem> out;
  for (const Shape& s : quick ? lstm_quick : lstm) {
    for (int64_t B : batches) {
      for (int threads : {1, 2}) out.push_back({CellType::lstm, s.I, s.H, s.T, B, threads});
    }
  }
  for (CellType cell : {CellType::gru, CellType::rnn}) {
    for (int64_t B : batches) {
      for (int threads : {1, 2}) out.push_back({cell, 512, 512, 100, B, threads});
    }
  }
  return out;
}

std::string recur_isa() {
  ModelSpec spec;
  RecurrentLayer l;
  l.cell = CellType::rnn;
  l.input_size = 1;
  l.hidden_size = 1;
  DirectionWeights w;
  w.W = make_tensor({1, 1});
  w.R = make_tensor({1, 1});
  w.Wb = make_tensor({1});
  w.Rb = make_tensor({1});
  l.weights.push_back(w);
  spec.layers.push_back(l);
  Result<Model> m = Model::from_spec(spec);
  return m.ok() ? isa_name(m->isa()) : m.status().to_string();
}

}  // namespace recur::bench

namespace {

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      quick = true;
    } else {
      args.push_back(argv[i]);
    }
  }
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  benchmark::AddCustomContext("cpu_model", cpu_model());
  benchmark::AddCustomContext("omp_max_threads", std::to_string(omp_get_max_threads()));
  benchmark::AddCustomContext("suite", quick ? "quick" : "full");
  benchmark::AddCustomContext("recur_isa", recur::bench::recur_isa());
  recur::bench::register_peak(quick);
  recur::bench::register_rnn(recur::bench::standard_problems(quick));
  recur::bench::register_gemm(quick);
  recur::bench::register_load(quick);
  recur::bench::register_denormal(quick);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
