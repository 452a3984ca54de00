// The RNN benchmarks: recur's Model::run (public API, weights packed at load) and oneDNN's own
// RNN primitives (lstm_forward / gru_forward / vanilla_rnn_forward, forward_inference, weights
// in the primitive's preferred layout reordered once outside the timed loop), same shapes, same
// thread count (RunOptions.threads for recur, omp_set_num_threads for oneDNN).
#include <omp.h>

#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>

#include "bench/bench_common.hpp"
#include "recur/model.hpp"

namespace recur::bench {

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

// ---- recur -------------------------------------------------------------------------------
ModelSpec make_spec(const Problem& p) {
  return one_layer_spec(p.cell, p.I, p.H, 1.0f / std::sqrt(float(p.H)));
}

void bench_recur(benchmark::State& state, Problem p, WeightFormat recurrent_weights) {
  LoadOptions load;
  load.recurrent_weights = recurrent_weights;
  Result<Model> m = Model::from_spec(make_spec(p), load);
  if (!m.ok()) {
    state.SkipWithError(m.status().to_string().c_str());
    return;
  }
  const std::vector<float> x = random_floats(size_t(p.T * p.B * p.I), 5, 1.0f);
  RunInput in{x.data(), p.T, p.B};
  RunOptions opt;
  opt.threads = p.threads;
  for (auto _ : state) {
    Result<RunOutput> out = m->run(in, opt);
    if (!out.ok()) {
      state.SkipWithError(out.status().to_string().c_str());
      return;
    }
    benchmark::DoNotOptimize(out->y.data());
  }
  set_counters(state, p);
  state.SetLabel(std::string("isa=") + isa_name(m->isa()));
}

// ---- oneDNN ------------------------------------------------------------------------------
struct OnednnRnn {
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
  dnnl::primitive prim;
  std::unordered_map<int, memory> args;

  explicit OnednnRnn(const Problem& p) {
    const memory::dim T = p.T, B = p.B, I = p.I, H = p.H, G = p.gates();
    const memory::desc src_layer({T, B, I}, dt::f32, tag::tnc);
    const memory::desc dst_layer({T, B, H}, dt::f32, tag::tnc);
    const memory::desc iter({1, 1, B, H}, dt::f32, tag::ldnc);
    const memory::desc wl_any({1, 1, I, G, H}, dt::f32, tag::any);
    const memory::desc wi_any({1, 1, H, G, H}, dt::f32, tag::any);
    const memory::desc bias({1, 1, G, H}, dt::f32, tag::ldgo);
    const auto inf = dnnl::prop_kind::forward_inference;
    const auto dir = dnnl::rnn_direction::unidirectional_left2right;
    memory::desc wl_md, wi_md;
    switch (p.cell) {
      case CellType::lstm: {
        dnnl::lstm_forward::desc d(inf, dir, src_layer, memory::desc(), memory::desc(), wl_any,
                                   wi_any, bias, dst_layer, iter, iter);
        dnnl::lstm_forward::primitive_desc pd(d, eng);
        prim = dnnl::lstm_forward(pd);
        wl_md = pd.weights_layer_desc();
        wi_md = pd.weights_iter_desc();
        args[DNNL_ARG_DST_ITER_C] = memory(pd.dst_iter_c_desc(), eng);
        args[DNNL_ARG_DST_ITER] = memory(pd.dst_iter_desc(), eng);
        if (pd.workspace_desc().get_size()) args[DNNL_ARG_WORKSPACE] = memory(pd.workspace_desc(), eng);
        break;
      }
      case CellType::gru: {
        dnnl::gru_forward::desc d(inf, dir, src_layer, memory::desc(), wl_any, wi_any, bias,
                                  dst_layer, iter);
        dnnl::gru_forward::primitive_desc pd(d, eng);
        prim = dnnl::gru_forward(pd);
        wl_md = pd.weights_layer_desc();
        wi_md = pd.weights_iter_desc();
        args[DNNL_ARG_DST_ITER] = memory(pd.dst_iter_desc(), eng);
        break;
      }
      case CellType::rnn: {
        dnnl::vanilla_rnn_forward::desc d(inf, dnnl::algorithm::eltwise_tanh, dir, src_layer,
                                          memory::desc(), wl_any, wi_any, bias, dst_layer, iter);
        dnnl::vanilla_rnn_forward::primitive_desc pd(d, eng);
        prim = dnnl::vanilla_rnn_forward(pd);
        wl_md = pd.weights_layer_desc();
        wi_md = pd.weights_iter_desc();
        args[DNNL_ARG_DST_ITER] = memory(pd.dst_iter_desc(), eng);
        break;
      }
    }
    // User data in plain layouts, weights reordered once into the primitive's layout.
    const float scale = 1.0f / std::sqrt(float(H));
    auto filled = [&](const memory::desc& md, uint32_t seed, float s) {
      memory mem(md, eng);
      const size_t n = md.get_size() / sizeof(float);
      const std::vector<float> v = random_floats(n, seed, s);
      std::memcpy(mem.get_data_handle(), v.data(), n * sizeof(float));
      return mem;
    };
    memory wl_user = filled(memory::desc({1, 1, I, G, H}, dt::f32, tag::ldigo), 1, scale);
    memory wi_user = filled(memory::desc({1, 1, H, G, H}, dt::f32, tag::ldigo), 2, scale);
    memory wl(wl_md, eng), wi(wi_md, eng);
    dnnl::reorder(wl_user, wl).execute(strm, wl_user, wl);
    dnnl::reorder(wi_user, wi).execute(strm, wi_user, wi);
    strm.wait();
    args[DNNL_ARG_SRC_LAYER] = filled(src_layer, 5, 1.0f);
    args[DNNL_ARG_WEIGHTS_LAYER] = wl;
    args[DNNL_ARG_WEIGHTS_ITER] = wi;
    args[DNNL_ARG_BIAS] = filled(bias, 3, scale);
    args[DNNL_ARG_DST_LAYER] = memory(dst_layer, eng);
  }

  void run() {
    prim.execute(strm, args);
    strm.wait();
  }
};

void bench_onednn(benchmark::State& state, Problem p) {
  omp_set_num_threads(p.threads);
  std::unique_ptr<OnednnRnn> rnn;
  try {
    rnn = std::make_unique<OnednnRnn>(p);
  } catch (const dnnl::error& e) {
    state.SkipWithError(e.what());
    return;
  }
  for (auto _ : state) rnn->run();
  set_counters(state, p);
}

}  // namespace

void register_rnn(const std::vector<Problem>& problems, int64_t bf16_max_batch) {
  for (const Problem& p : problems) {
    // oneDNN first, then recur, per shape: the report pairs them.
    benchmark::RegisterBenchmark(p.name("onednn").c_str(), bench_onednn, p)
        ->MeasureProcessCPUTime()->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(p.name("recur").c_str(), bench_recur, p, WeightFormat::f32)
        ->MeasureProcessCPUTime()->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
    // bf16 recurrent weights (LoadOptions::recurrent_weights): what the small batches, whose
    // steps stream R, gain by half the bytes. Other arithmetic than oneDNN's f32: the report
    // gives its ratio in a column of its own.
    if (p.B <= bf16_max_batch) {
      benchmark::RegisterBenchmark(p.name("recur_bf16").c_str(), bench_recur, p, WeightFormat::bf16)
          ->MeasureProcessCPUTime()->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
}

}  // namespace recur::bench
