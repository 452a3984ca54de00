// The RNN benchmarks: recur's Model::run (public API, weights packed at load) and oneDNN's own
// RNN primitives (lstm_forward / gru_forward / vanilla_rnn_forward, forward_inference, weights
// in the primitive's preferred layout reordered once outside the timed loop), same shapes, same
// thread count (RunOptions.threads for recur, omp_set_num_threads for oneDNN). oneDNN's LSTM
// also in bf16 (all data bf16, cell state f32) and int8 (u8 activations with the data
// scale/shift, s8 weights with per-output-channel scales, f32 bias and cell state; x quantized
// outside the timed loop, y read back as f32).
#include <omp.h>

#include <algorithm>
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

// max |a - b| over two outputs of one shape.
double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double e = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) e = std::max(e, double(std::fabs(a[i] - b[i])));
  return e;
}

void bench_recur(benchmark::State& state, Problem p, LoadOptions load) {
  Result<Model> m = Model::from_spec(make_spec(p), load);
  if (!m.ok()) {
    state.SkipWithError(m.status().to_string().c_str());
    return;
  }
  const std::vector<float> x = random_floats(size_t(p.T * p.B * p.I), 5, 1.0f);
  RunInput in{x.data(), p.T, p.B};
  RunOptions opt;
  opt.threads = p.threads;
  if (load.precision == Precision::int8) {  // its error against fp32 on the same input
    Result<Model> f32 = Model::from_spec(make_spec(p));
    Result<RunOutput> want = f32->run(in, opt), got = m->run(in, opt);
    if (want.ok() && got.ok()) state.counters["max_abs_err_vs_f32"] = max_abs_diff(got->y, want->y);
  }
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
// int8 data quantization (attr rnn_data_qparams): u8 = x * kDataScale + kDataShift, fit for
// activations in [-1, 1] (x of these benchmarks, and h).
constexpr float kDataScale = 127.0f;
constexpr float kDataShift = 128.0f;

struct OnednnRnn {
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
  dnnl::primitive prim;
  std::unordered_map<int, memory> args;

  // data: f32 for every cell; bf16 and u8 (int8) for lstm only.
  OnednnRnn(const Problem& p, dt data) {
    const memory::dim T = p.T, B = p.B, I = p.I, H = p.H, G = p.gates();
    const bool int8 = data == dt::u8;
    const dt weights_dt = int8 ? dt::s8 : data;
    const dt dst_dt = int8 ? dt::f32 : data;  // int8: y dequantized by the primitive
    const memory::desc src_layer({T, B, I}, data, tag::tnc);
    const memory::desc dst_layer({T, B, H}, dst_dt, tag::tnc);
    const memory::desc iter({1, 1, B, H}, int8 ? dt::u8 : data, tag::ldnc);
    const memory::desc iter_c({1, 1, B, H}, dt::f32, tag::ldnc);
    const memory::desc wl_any({1, 1, I, G, H}, weights_dt, tag::any);
    const memory::desc wi_any({1, 1, H, G, H}, weights_dt, tag::any);
    const memory::desc bias({1, 1, G, H}, dt::f32, tag::ldgo);
    const auto inf = dnnl::prop_kind::forward_inference;
    const auto dir = dnnl::rnn_direction::unidirectional_left2right;
    const float scale = 1.0f / std::sqrt(float(H));
    const std::vector<float> wl_f32 = random_floats(size_t(I * G * H), 1, scale);  // ldigo
    const std::vector<float> wi_f32 = random_floats(size_t(H * G * H), 2, scale);
    dnnl::primitive_attr attr;
    if (int8) {
      // One scale per output channel (g, o), shared by the layer and iter weights (oneDNN 2.x
      // has one set for both): 127 / max |w| over that channel's column in both.
      std::vector<float> wmax(size_t(G * H), 0.0f);
      for (memory::dim k = 0; k < I; ++k)
        for (memory::dim n = 0; n < G * H; ++n)
          wmax[size_t(n)] = std::max(wmax[size_t(n)], std::fabs(wl_f32[size_t(k * G * H + n)]));
      for (memory::dim k = 0; k < H; ++k)
        for (memory::dim n = 0; n < G * H; ++n)
          wmax[size_t(n)] = std::max(wmax[size_t(n)], std::fabs(wi_f32[size_t(k * G * H + n)]));
      std::vector<float> wscales(wmax.size());
      for (size_t n = 0; n < wmax.size(); ++n) wscales[n] = wmax[n] > 0 ? 127.0f / wmax[n] : 1.0f;
      attr.set_rnn_data_qparams(kDataScale, kDataShift);
      attr.set_rnn_weights_qparams((1 << 3) | (1 << 4), wscales);
    }
    memory::desc wl_md, wi_md;
    switch (p.cell) {
      case CellType::lstm: {
        dnnl::lstm_forward::desc d(inf, dir, src_layer, memory::desc(), memory::desc(), wl_any,
                                   wi_any, bias, dst_layer, iter, iter_c);
        dnnl::lstm_forward::primitive_desc pd(d, attr, eng);
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
    // User data in plain f32 layouts; weights reordered once (converted, or quantized with the
    // primitive's weights scales) into the primitive's layout.
    auto f32_memory = [&](const memory::dims& dims, tag t, const std::vector<float>& v) {
      memory mem(memory::desc(dims, dt::f32, t), eng);
      std::memcpy(mem.get_data_handle(), v.data(), v.size() * sizeof(float));
      return mem;
    };
    auto converted = [&](memory from, const memory::desc& to_md) {
      memory to(to_md, eng);
      dnnl::reorder(dnnl::reorder::primitive_desc(eng, from.get_desc(), eng, to_md, attr))
          .execute(strm, from, to);
      return to;
    };
    memory wl_user = f32_memory({1, 1, I, G, H}, tag::ldigo, wl_f32);
    memory wi_user = f32_memory({1, 1, H, G, H}, tag::ldigo, wi_f32);
    args[DNNL_ARG_WEIGHTS_LAYER] = converted(wl_user, wl_md);
    args[DNNL_ARG_WEIGHTS_ITER] = converted(wi_user, wi_md);
    const std::vector<float> x = random_floats(size_t(T * B * I), 5, 1.0f);
    if (int8) {
      memory src(src_layer, eng);
      auto* u = static_cast<uint8_t*>(src.get_data_handle());
      for (size_t i = 0; i < x.size(); ++i) {
        u[i] = uint8_t(std::min(255.0f, std::max(0.0f, std::nearbyint(x[i] * kDataScale + kDataShift))));
      }
      args[DNNL_ARG_SRC_LAYER] = src;
    } else if (data == dt::f32) {
      args[DNNL_ARG_SRC_LAYER] = f32_memory({T, B, I}, tag::tnc, x);
    } else {
      memory from = f32_memory({T, B, I}, tag::tnc, x);
      memory to(src_layer, eng);
      dnnl::reorder(from, to).execute(strm, from, to);
      args[DNNL_ARG_SRC_LAYER] = to;
    }
    strm.wait();
    args[DNNL_ARG_BIAS] = f32_memory({1, 1, G, H}, tag::ldgo, random_floats(size_t(G * H), 3, scale));
    args[DNNL_ARG_DST_LAYER] = memory(dst_layer, eng);
  }

  void run() {
    prim.execute(strm, args);
    strm.wait();
  }

  // y (T, B, H) as f32, whatever the primitive's dst type.
  std::vector<float> output() {
    memory dst = args.at(DNNL_ARG_DST_LAYER);
    memory f32(memory::desc(dst.get_desc().dims(), dt::f32, tag::tnc), eng);
    dnnl::reorder(dst, f32).execute(strm, dst, f32);
    strm.wait();
    const auto* v = static_cast<const float*>(f32.get_data_handle());
    return std::vector<float>(v, v + f32.get_desc().get_size() / sizeof(float));
  }
};

void bench_onednn(benchmark::State& state, Problem p, dt data) {
  omp_set_num_threads(p.threads);
  std::unique_ptr<OnednnRnn> rnn;
  try {
    rnn = std::make_unique<OnednnRnn>(p, data);
  } catch (const dnnl::error& e) {
    state.SkipWithError(e.what());
    return;
  }
  if (data != dt::f32) {  // its error against oneDNN f32 on the same weights and input
    OnednnRnn f32(p, dt::f32);
    f32.run();
    rnn->run();
    state.counters["max_abs_err_vs_f32"] = max_abs_diff(rnn->output(), f32.output());
  }
  for (auto _ : state) rnn->run();
  set_counters(state, p);
}

}  // namespace

void register_rnn(const std::vector<Problem>& problems, int64_t bf16_max_batch) {
  for (const Problem& p : problems) {
    // oneDNN first, then recur, per shape: the report pairs them.
    benchmark::RegisterBenchmark(p.name("onednn").c_str(), bench_onednn, p, dt::f32)
        ->MeasureProcessCPUTime()->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
    // oneDNN's reduced-precision LSTM: the peers of recur's int8 and bf16 paths.
    if (p.cell == CellType::lstm) {
      benchmark::RegisterBenchmark(p.name("onednn_bf16").c_str(), bench_onednn, p, dt::bf16)
          ->MeasureProcessCPUTime()->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(p.name("onednn_int8").c_str(), bench_onednn, p, dt::u8)
          ->MeasureProcessCPUTime()->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    }
    benchmark::RegisterBenchmark(p.name("recur").c_str(), bench_recur, p, LoadOptions{})
        ->MeasureProcessCPUTime()->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
    // bf16 recurrent weights (LoadOptions::recurrent_weights): what the small batches, whose
    // steps stream R, gain by half the bytes. Other arithmetic than oneDNN's f32: the report
    // gives its ratio in a column of its own.
    if (p.B <= bf16_max_batch) {
      LoadOptions bf16r;
      bf16r.recurrent_weights = WeightFormat::bf16;
      benchmark::RegisterBenchmark(p.name("recur_bf16r").c_str(), bench_recur, p, bf16r)
          ->MeasureProcessCPUTime()->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    }
    // int8 dynamic quantization (LoadOptions::precision): beside oneDNN's int8 and ORT's.
    LoadOptions int8;
    int8.precision = Precision::int8;
    benchmark::RegisterBenchmark(p.name("recur_int8").c_str(), bench_recur, p, int8)
        ->MeasureProcessCPUTime()->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace recur::bench
