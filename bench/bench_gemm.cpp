// The hoisted input projection gx (M, G*H) = x (M, I) · W^T + b, M = T*B, three ways:
// dnnl_sgemm, dnnl::matmul with weights prepacked once (format_tag::any), and recur's own
// gate-panel GEMM (the one Model::run uses), each on the same threads.
#include <omp.h>

#include <oneapi/dnnl/dnnl.h>

#include <algorithm>
#include <cstring>
#include <oneapi/dnnl/dnnl.hpp>

#include "bench/bench_common.hpp"
#include "kernels/kernels.hpp"
#include "kernels/recurrent.hpp"
#include "runtime/aligned_floats.hpp"

namespace recur::bench {

namespace {

struct GemmShape {
  int64_t M, N, K;
  int threads;
  std::string name(const char* impl) const {
    return std::string("gemm/") + impl + "/M:" + std::to_string(M) + "/N:" + std::to_string(N) +
           "/K:" + std::to_string(K) + "/threads:" + std::to_string(threads);
  }
  double flops() const { return 2.0 * double(M) * double(N) * double(K); }
};

void counters(benchmark::State& state, const GemmShape& s) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(s.flops() / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

void bench_sgemm(benchmark::State& state, GemmShape s) {
  omp_set_num_threads(s.threads);
  const auto A = random_floats(size_t(s.M * s.K), 1, 1.0f);
  const auto W = random_floats(size_t(s.N * s.K), 2, 0.03f);  // (N, K)
  std::vector<float> C(size_t(s.M * s.N));
  for (auto _ : state) {
    dnnl_sgemm('N', 'T', s.M, s.N, s.K, 1.0f, A.data(), s.K, W.data(), s.K, 0.0f, C.data(), s.N);
    benchmark::DoNotOptimize(C.data());
  }
  counters(state, s);
}

void bench_matmul(benchmark::State& state, GemmShape s) {
  using dnnl::memory;
  using tag = memory::format_tag;
  using dt = memory::data_type;
  omp_set_num_threads(s.threads);
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
  const memory::desc a_md({s.M, s.K}, dt::f32, tag::ab);
  const memory::desc w_any({s.K, s.N}, dt::f32, tag::any);
  const memory::desc b_md({1, s.N}, dt::f32, tag::ab);
  const memory::desc c_md({s.M, s.N}, dt::f32, tag::ab);
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, w_any, b_md, c_md), eng);
  dnnl::matmul mm(pd);
  const auto A = random_floats(size_t(s.M * s.K), 1, 1.0f);
  const auto W = random_floats(size_t(s.N * s.K), 2, 0.03f);  // (N, K) = (K, N) in tag ba
  const auto bias = random_floats(size_t(s.N), 3, 0.1f);
  memory a(a_md, eng, const_cast<float*>(A.data()));
  memory w_user(memory::desc({s.K, s.N}, dt::f32, tag::ba), eng, const_cast<float*>(W.data()));
  memory w(pd.weights_desc(), eng);
  dnnl::reorder(w_user, w).execute(strm, w_user, w);  // prepacked once
  memory b(b_md, eng, const_cast<float*>(bias.data()));
  memory c(c_md, eng);
  strm.wait();
  for (auto _ : state) {
    mm.execute(strm, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_BIAS, b}, {DNNL_ARG_DST, c}});
    strm.wait();
  }
  counters(state, s);
}

// recur's panel GEMM as Model::run calls it: panels split over threads, rows in L2 blocks.
void bench_panels(benchmark::State& state, GemmShape s) {
  const kernels::RecurrentKernels& k =
      __builtin_cpu_supports("avx512f") ? kernels::recurrent_f32_avx512() : kernels::recurrent_f32_avx2();
  const int64_t G = 4, H = s.N / G;
  const auto A = random_floats(size_t(s.M * s.K), 1, 1.0f);
  const auto W = random_floats(size_t(s.N * s.K), 2, 0.03f);
  const auto bias = random_floats(size_t(s.N), 3, 0.1f);
  const kernels::PanelShape sh = k.shape(G, H, s.K);
  AlignedFloats panels(sh.floats());
  kernels::pack_panels_f32(sh, W.data(), panels.data());
  std::vector<float> C(size_t(s.M * s.N));
  constexpr int64_t kRows = 192;
  for (auto _ : state) {
#pragma omp parallel num_threads(s.threads)
    {
      const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads(), P = sh.panels();
      const int64_t p0 = P * t / nt, p1 = P * (t + 1) / nt;
      for (int64_t m0 = 0; m0 < s.M; m0 += kRows) {
        k.gates(sh, panels.data(), std::min(kRows, s.M - m0), {A.data() + m0 * s.K, s.K, nullptr},
                bias.data(), C.data() + m0 * s.N, s.N, p0, p1);
      }
    }
    benchmark::DoNotOptimize(C.data());
  }
  counters(state, s);
  state.SetLabel(k.name);
}

}  // namespace

void register_gemm(bool quick) {
  std::vector<GemmShape> shapes;
  for (int threads : {1, 2}) {
    shapes.push_back({50, 4096, 1024, threads});    // T=50 B=1 H=I=1024
    shapes.push_back({3200, 4096, 1024, threads});  // T=50 B=64
    if (!quick) shapes.push_back({100, 2048, 512, threads});  // T=100 B=1 H=I=512
    if (!quick) shapes.push_back({6400, 1024, 256, threads});  // T=100 B=64 H=I=256
  }
  for (const GemmShape& s : shapes) {
    benchmark::RegisterBenchmark(s.name("dnnl_sgemm").c_str(), bench_sgemm, s)->MeasureProcessCPUTime()->UseRealTime()->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(s.name("onednn_matmul").c_str(), bench_matmul, s)->MeasureProcessCPUTime()->UseRealTime()->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(s.name("recur_panels").c_str(), bench_panels, s)->MeasureProcessCPUTime()->UseRealTime()->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace recur::bench
