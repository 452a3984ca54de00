// The fp32 FMA peak of one core of this machine, measured (not looked up): report.sh divides
// GFLOP/s by it for the "% peak" column. Independent FMA chains on registers only, enough of
// them to cover the FMA latency on the cores we know (4 cycles x 2 pipes needs >= 8).
#include <immintrin.h>

#include "bench/bench_common.hpp"

namespace recur::bench {

namespace {

constexpr int kChains = 12;
constexpr int64_t kIters = 1 << 16;

// x, y come from the caller at run time so the compiler cannot fold the loop away.
__attribute__((target("avx512f"))) float fma_avx512(float x, float y) {
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(x * float(i));
  const __m512 a = _mm512_set1_ps(1.0f - x), b = _mm512_set1_ps(y);
  for (int64_t it = 0; it < kIters; ++it) {
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  __m512 s = acc[0];
  for (int i = 1; i < kChains; ++i) s = _mm512_add_ps(s, acc[i]);
  alignas(64) float t[16];
  _mm512_store_ps(t, s);
  return t[0] + t[15];
}

__attribute__((target("avx2,fma"))) float fma_avx2(float x, float y) {
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(x * float(i));
  const __m256 a = _mm256_set1_ps(1.0f - x), b = _mm256_set1_ps(y);
  for (int64_t it = 0; it < kIters; ++it) {
    for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  }
  alignas(32) float t[8];
  __m256 s = acc[0];
  for (int i = 1; i < kChains; ++i) s = _mm256_add_ps(s, acc[i]);
  _mm256_store_ps(t, s);
  return t[0] + t[7];
}

void bench_peak(benchmark::State& state) {
  const bool avx512 = __builtin_cpu_supports("avx512f");
  if (!avx512 && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) {
    state.SkipWithError("no AVX2+FMA");
    return;
  }
  const int width = avx512 ? 16 : 8;
  volatile float x = 1e-6f, y = 1e-7f;
  for (auto _ : state) benchmark::DoNotOptimize(avx512 ? fma_avx512(x, y) : fma_avx2(x, y));
  const double flops = 2.0 * width * kChains * double(kIters);
  state.counters["GFLOP/s"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(avx512 ? "avx512" : "avx2");
}

}  // namespace

void register_peak(bool) {
  benchmark::RegisterBenchmark("peak/fma_f32/threads:1", bench_peak)->Unit(benchmark::kMicrosecond)->UseRealTime();
}

}  // namespace recur::bench
