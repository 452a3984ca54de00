// Load time of the H=I=1024 LSTM model (read + checksum + finite check + pack) against the time to
// read the same file's bytes once into memory (page cache warm for both), measured alternately.
#include <algorithm>
#include <chrono>
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

// Reads the file's bytes once into buf (kept between calls, so already faulted in).
bool read_once(std::vector<char>& buf) {
  std::FILE* f = std::fopen(model_path().c_str(), "rb");
  if (!f) return false;
  const long size = std::fseek(f, 0, SEEK_END) == 0 ? std::ftell(f) : -1;
  if (size < 0 || std::fseek(f, 0, SEEK_SET) != 0) {
    std::fclose(f);
    return false;
  }
  buf.resize(size_t(size));
  const size_t n = std::fread(buf.data(), 1, buf.size(), f);
  std::fclose(f);
  benchmark::DoNotOptimize(n);
  return n == buf.size();
}

// The two alternate in one loop, so both see the same page cache and machine state (on a
// shared VM the file's pages can be reclaimed, or another job run, between two benchmarks).
// Counters: the fastest read and the fastest load of the repetition, in µs.
void bench_load_and_read(benchmark::State& state) {
  using clock = std::chrono::steady_clock;
  std::vector<char> buf;
  double best_read = 1e30, best_load = 1e30;
  for (auto _ : state) {
    const clock::time_point t0 = clock::now();
    if (!read_once(buf)) {
      state.SkipWithError("cannot read the model file");
      return;
    }
    const clock::time_point t1 = clock::now();
    Result<Model> m = Model::load(model_path());
    const clock::time_point t2 = clock::now();
    if (!m.ok()) {
      state.SkipWithError(m.status().to_string().c_str());
      return;
    }
    benchmark::DoNotOptimize(&m);
    best_read = std::min(best_read, std::chrono::duration<double, std::micro>(t1 - t0).count());
    best_load = std::min(best_load, std::chrono::duration<double, std::micro>(t2 - t1).count());
  }
  state.counters["read_us"] = best_read;
  state.counters["load_us"] = best_load;
}

}  // namespace

void register_load(bool) {
  benchmark::RegisterBenchmark("load/load_and_read/I:1024/H:1024", bench_load_and_read)
      ->Unit(benchmark::kMillisecond)->UseRealTime();
}

}  // namespace recur::bench
