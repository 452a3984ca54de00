// Shared by the recur_bench translation units: shapes, FLOP counts, random data, registration.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "recur/spec.hpp"

namespace recur::bench {

// One benchmark problem: cell, input width I, hidden H, steps T, batch B, threads.
struct Problem {
  CellType cell = CellType::lstm;
  int64_t I = 0, H = 0, T = 0, B = 1;
  int threads = 1;

  int64_t gates() const { return gate_count(cell); }
  // Multiply-adds of the two products per sequence: T*B*G*H*(I+H), 2 FLOPs each.
  double flops() const { return 2.0 * double(T) * double(B) * double(gates() * H) * double(I + H); }
  // Bytes of recurrent weights streamed per sequence (one pass per step).
  double weight_bytes() const { return double(T) * double(gates() * H * H) * 4.0; }
  // lstm/<impl>/I:512/H:512/T:100/B:1/threads:2
  std::string name(const char* impl) const {
    return std::string(cell_name(cell)) + "/" + impl + "/I:" + std::to_string(I) + "/H:" +
           std::to_string(H) + "/T:" + std::to_string(T) + "/B:" + std::to_string(B) +
           "/threads:" + std::to_string(threads);
  }
};

inline std::vector<float> random_floats(size_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// One recurrent layer of `cell` (I inputs, H units, no head), weights uniform in ±scale.
inline ModelSpec one_layer_spec(CellType cell, int64_t I, int64_t H, float scale) {
  ModelSpec spec;
  spec.name = "bench";
  RecurrentLayer l;
  l.cell = cell;
  l.input_size = I;
  l.hidden_size = H;
  const int64_t gh = gate_count(cell) * H;
  DirectionWeights w;
  w.W = Tensor{{gh, I}, random_floats(size_t(gh * I), 1, scale)};
  w.R = Tensor{{gh, H}, random_floats(size_t(gh * H), 2, scale)};
  w.Wb = Tensor{{gh}, random_floats(size_t(gh), 3, scale)};
  w.Rb = Tensor{{gh}, random_floats(size_t(gh), 4, scale)};
  l.weights.push_back(std::move(w));
  spec.layers.push_back(std::move(l));
  return spec;
}

inline void set_counters(benchmark::State& state, const Problem& p) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(p.flops() / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["weights_GB/s"] =
      benchmark::Counter(p.weight_bytes() / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

// The standard problems: LSTM (I, H, T) shapes x B x thread_counts, GRU/RNN at 512.
std::vector<Problem> standard_problems(bool quick, const std::vector<int>& thread_counts);

// recur with bf16 recurrent weights too: at batches up to bf16_max_batch.
void register_rnn(const std::vector<Problem>& problems, int64_t bf16_max_batch);
void register_gemm(bool quick);
void register_load(bool quick);
void register_denormal(bool quick);
void register_peak(bool quick);
// The ISA Model picks by default (RECUR_ISA applies), for the benchmark context.
std::string recur_isa();

}  // namespace recur::bench
