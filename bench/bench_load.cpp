// Load time of the H=I=1024 LSTM model (read + checksum + finite check + pack) against the time to
// read the same file's bytes once into memory (page cache warm for both).
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "bench/bench_common.hpp"
#include "recur/format.hpp"
#include "recur/model.hpp"

namespace recur::bench {

namespace {

constexpr int64_t kLoadH = 1024;

const std::string& model_path() {
  static const std::string path = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string p = std::string(tmp && *tmp ? tmp : "/tmp") + "/recur_bench_lstm_1024.recur";
    const ModelSpec spec = one_layer_spec(CellType::lstm, kLoadH, kLoadH, 0.03f);
    const Status s = write_model(spec, p);
    if (!s.ok()) std::fprintf(stderr, "recur_bench: %s\n", s.to_string().c_str());
    return p;
  }();
  return path;
}

void bench_load(benchmark::State& state) {
  for (auto _ : state) {
    Result<Model> m = Model::load(model_path());
    if (!m.ok()) {
      state.SkipWithError(m.status().to_string().c_str());
      return;
    }
    benchmark::DoNotOptimize(&m);
  }
}

void bench_read(benchmark::State& state) {
  std::vector<char> buf;
  for (auto _ : state) {
    std::FILE* f = std::fopen(model_path().c_str(), "rb");
    if (!f) {
      state.SkipWithError("cannot open the model file");
      return;
    }
    std::fseek(f, 0, SEEK_END);
    buf.resize(size_t(std::ftell(f)));
    std::fseek(f, 0, SEEK_SET);
    const size_t n = std::fread(buf.data(), 1, buf.size(), f);
    std::fclose(f);
    benchmark::DoNotOptimize(n);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(buf.size()));
}

}  // namespace

void register_load(bool) {
  benchmark::RegisterBenchmark("load/recur/I:1024/H:1024", bench_load)->Unit(benchmark::kMillisecond)->UseRealTime();
  benchmark::RegisterBenchmark("load/read_bytes/I:1024/H:1024", bench_read)->Unit(benchmark::kMillisecond)->UseRealTime();
}

}  // namespace recur::bench
