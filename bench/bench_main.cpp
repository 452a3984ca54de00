// recur_bench entry: registers the problems (all standard shapes, a subset with --quick, or the
// shapes given with --shape, at the thread counts of --threads, default 1,2) and records the
// machine in the benchmark context.
#include <omp.h>

#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "bench/bench_common.hpp"
#include "recur/model.hpp"

namespace recur::bench {

// "--threads 1,2,4": each a count in 1..1024, no repeats.
bool parse_threads(const char* text, std::vector<int>& out) {
  out.clear();
  const char* p = text;
  while (*p) {
    char* end = nullptr;
    const long v = std::strtol(p, &end, 10);
    if (end == p || v < 1 || v > 1024 || (*end != ',' && *end != '\0')) return false;
    for (int seen : out)
      if (seen == v) return false;
    out.push_back(static_cast<int>(v));
    p = *end ? end + 1 : end;
  }
  return !out.empty();
}

std::vector<Problem> standard_problems(bool quick, const std::vector<int>& thread_counts) {
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
      for (int threads : thread_counts) out.push_back({CellType::lstm, s.I, s.H, s.T, B, threads});
    }
  }
  for (CellType cell : {CellType::gru, CellType::rnn}) {
    for (int64_t B : batches) {
      for (int threads : thread_counts) out.push_back({cell, 512, 512, 100, B, threads});
    }
  }
  return out;
}

// "--shape lstm:I:H:T:B[:threads]" -> one problem per thread count (`thread_counts` if not
// given). Sizes are bounded so a typo cannot ask for terabytes.
bool parse_shape(const char* text, const std::vector<int>& thread_counts, std::vector<Problem>& out) {
  char cell[8] = {};
  long long I = 0, H = 0, T = 0, B = 0;
  int threads = 0, end = 0;
  const int n = std::sscanf(text, "%7[a-z]:%lld:%lld:%lld:%lld%n:%d%n", cell, &I, &H, &T, &B, &end, &threads, &end);
  const auto in = [](long long v, long long most) { return v >= 1 && v <= most; };
  if (n < 5 || text[end] != '\0' || !in(I, 1 << 16) || !in(H, 1 << 16) || !in(T, 1 << 20) ||
      !in(B, 1 << 16) || (n == 6 && !in(threads, 1024))) {
    return false;
  }
  for (CellType type : {CellType::lstm, CellType::gru, CellType::rnn}) {
    if (std::strcmp(cell, cell_name(type)) != 0) continue;
    for (int t : n == 6 ? std::vector<int>{threads} : thread_counts) out.push_back({type, I, H, T, B, t});
    return true;
  }
  return false;
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

int shape_usage() {
  std::fprintf(stderr, "recur_bench: --shape wants cell:I:H:T:B[:threads], e.g. lstm:256:256:100:64:1\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  std::vector<int> thread_counts = {1, 2};
  std::vector<const char*> shape_args;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      quick = true;
    } else if (std::strcmp(argv[i], "--shape") == 0) {
      if (i + 1 >= argc) return shape_usage();
      shape_args.push_back(argv[++i]);
    } else if (std::strcmp(argv[i], "--threads") == 0) {
      if (i + 1 >= argc || !recur::bench::parse_threads(argv[i + 1], thread_counts)) {
        std::fprintf(stderr, "recur_bench: --threads wants distinct counts in 1..1024, e.g. 1,2,4,8,16\n");
        return 2;
      }
      ++i;
    } else {
      args.push_back(argv[i]);
    }
  }
  // Shapes after every option is read, so --threads applies wherever it stands.
  std::vector<recur::bench::Problem> shapes;
  for (const char* text : shape_args) {
    if (!recur::bench::parse_shape(text, thread_counts, shapes)) return shape_usage();
  }
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  benchmark::AddCustomContext("cpu_model", cpu_model());
  benchmark::AddCustomContext("omp_max_threads", std::to_string(omp_get_max_threads()));
  benchmark::AddCustomContext("suite", quick ? "quick" : "full");
  benchmark::AddCustomContext("recur_isa", recur::bench::recur_isa());
  if (!shapes.empty()) {  // only the shapes asked for
    recur::bench::register_rnn(shapes, INT64_MAX);
  } else {
    recur::bench::register_peak(quick);
    recur::bench::register_rnn(recur::bench::standard_problems(quick, thread_counts), 4);
    recur::bench::register_gemm(quick);
    recur::bench::register_load(quick);
    recur::bench::register_denormal(quick);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
