// Model: load (read + validate), pack the weights for the chosen kernels, drop the originals.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <system_error>
#include <thread>

#include "formats/activations.hpp"
#include "formats/tensor_sink.hpp"
#include "recur/format.hpp"
#include "runtime/fast_recurrence.hpp"
#include "runtime/isa.hpp"
#include "runtime/model_impl.hpp"
#include "runtime/parallel.hpp"

namespace recur {

namespace {

// ActKind lists the functions in ActivationFn's order; validate() admits only known names.
kernels::ActKind act_kind(const std::string& name) {
  static_assert(static_cast<int>(kernels::ActKind::sigmoid) == static_cast<int>(ActivationFn::sigmoid) &&
                static_cast<int>(kernels::ActKind::softplus) == static_cast<int>(ActivationFn::softplus));
  return static_cast<kernels::ActKind>(find_activation(name)->fn);
}

kernels::Act to_act(const Activation& a) { return {act_kind(a.name), a.alpha, a.beta}; }

// Activation k of direction d: the layer's own list, else the cell's defaults
// (rnn Tanh; lstm Sigmoid, Tanh, Tanh; gru Sigmoid, Tanh).
kernels::Act layer_activation(const RecurrentLayer& layer, int d, int k) {
  if (!layer.activations.empty()) {
    return to_act(layer.activations[static_cast<size_t>(d * activation_count(layer.cell) + k)]);
  }
  using kernels::ActKind;
  if (layer.cell == CellType::rnn) return {ActKind::tanh, 0.0f, 0.0f};
  return {k == 0 ? ActKind::sigmoid : ActKind::tanh, 0.0f, 0.0f};
}

std::vector<float> pack(const kernels::KernelTable& k, const Tensor& W) {
  // W (N, K) canonical -> the kernels' layout.
  const int64_t N = W.shape[0];
  const int64_t K = W.shape[1];
  std::vector<float> out(static_cast<size_t>(N * K));
  k.pack(N, K, W.data.data(), out.data());
  return out;
}

// Whether Model::load may use threads besides the caller's: LoadOptions::threads != 1 and a
// second CPU to run them on.
bool load_helpers_allowed(const LoadOptions& options) {
  return options.threads != 1 && available_cpus() >= 2;
}

// W with every element rounded to the nearest bfloat16 (LoadOptions::recurrent_weights), as fp32.
Tensor rounded_to_bf16(const Tensor& W) {
  Tensor out = W;
  for (float& x : out.data) x = kernels::from_bf16(kernels::to_bf16(x));
  return out;
}

// A weight of R that bfloat16 cannot hold (LoadOptions::recurrent_weights = bf16): it would
// round to infinity. rows: R's rows [row0, row0 + count), K floats each.
Status check_bf16_range(size_t layer, size_t dir, int64_t row0, int64_t count, int64_t K, const float* rows) {
  const int64_t n = count * K;
  const int64_t i = kernels::first_bf16_overflow(rows, n);
  if (i == n) return {};
  return Status(Errc::non_finite, "layer " + std::to_string(layer) + " direction " + std::to_string(dir) +
                                      ": recurrent weight (" + std::to_string(row0 + i / K) + ", " +
                                      std::to_string(i % K) + ") = " + std::to_string(rows[i]) +
                                      " rounds to infinity in bfloat16 (recurrent_weights = bf16)");
}

// Every R of a validated spec that holds its data (a loader's sink took the fused layers').
Status check_bf16_range(const ModelSpec& spec) {
  for (size_t l = 0; l < spec.layers.size(); ++l) {
    for (size_t d = 0; d < spec.layers[l].weights.size(); ++d) {
      const Tensor& R = spec.layers[l].weights[d].R;
      if (R.data.empty()) continue;
      RECUR_TRY(check_bf16_range(l, d, 0, R.shape[0], R.shape[1], R.data.data()));
    }
  }
  return {};
}

// Chooses the ISA and each layer's kernels and allocates the fused kernels' gate panels; reads
// no weight. The spec is valid at least in its shapes.
Status plan(const ModelSpec& spec, const LoadOptions& options, Model::Impl& m) {
  if (options.threads < 0 || options.threads > kMaxThreads) {
    return {Errc::invalid_argument, "LoadOptions::threads is " + std::to_string(options.threads) +
                                        ", expected 0.." + std::to_string(kMaxThreads)};
  }
  Result<Isa> isa = choose_isa(options.isa);
  if (!isa) return isa.status();
  m.isa = *isa;
  m.k = &kernels_for(m.isa);
  m.input_size = spec.input_size();
  m.output_size = spec.output_size();

  int64_t row = 0;
  for (const RecurrentLayer& layer : spec.layers) {
    PackedLayer p;
    p.cell = layer.cell;
    p.direction = layer.direction;
    p.dirs = direction_count(layer.direction);
    p.I = layer.input_size;
    p.H = layer.hidden_size;
    p.Hout = layer.output_size();
    p.G = gate_count(layer.cell);
    p.clip = layer.clip;
    p.input_forget = layer.input_forget;
    p.linear_before_reset = layer.linear_before_reset;
    p.state_row = row;
    p.recurrent_bf16 = options.recurrent_weights == WeightFormat::bf16;
    for (int d = 0; d < p.dirs; ++d) {
      PackedDirection pd;
      pd.f = layer_activation(layer, d, 0);
      if (activation_count(layer.cell) > 1) pd.g = layer_activation(layer, d, 1);
      if (activation_count(layer.cell) > 2) pd.h = layer_activation(layer, d, 2);
      p.dir.push_back(std::move(pd));
    }
    // Layers the fused kernels cover are packed into gate panels (runtime/fast_recurrence.hpp).
    p.fast = fast_path_applies(*m.k, layer, p.dir);
    if (const char* v = std::getenv("RECUR_VERBOSE"); v && std::strcmp(v, "1") == 0) {
      std::fprintf(stderr, "recur: layer %zu (%s, H=%lld): %s\n", m.layers.size(), cell_name(layer.cell),
                   static_cast<long long>(layer.hidden_size),
                   p.fast ? "fused gate-panel kernels" : "reference kernels (options outside the fused path)");
    }
    if (p.fast) {
      for (PackedDirection& pd : p.dir) alloc_fast(*m.k->fast, p, pd);
    }
    row += p.dirs;
    m.h_width = std::max(m.h_width, p.Hout);
    if (p.cell == CellType::lstm) m.c_width = std::max(m.c_width, p.H);
    if (p.direction != Direction::forward) m.streamable = false;
    m.max_gate_width = std::max(m.max_gate_width, p.gate_width());
    m.max_hidden = std::max(m.max_hidden, p.H);
    m.max_hout = std::max(m.max_hout, p.Hout);
    m.max_width = std::max(m.max_width, p.width());
    m.layers.push_back(std::move(p));
  }
  m.state_rows = row;
  return {};
}

// Packs every weight of `spec` that `plan` left unpacked: all of them, or all but the fused
// layers' W and R when a loader already streamed those into their panels. Then keeps the
// attributes in m.spec and drops the weights (they live packed).
void fill(ModelSpec&& spec, bool fast_panels_done, Model::Impl& m) {
  for (size_t l = 0; l < spec.layers.size(); ++l) {
    const RecurrentLayer& layer = spec.layers[l];
    PackedLayer& p = m.layers[l];
    for (int d = 0; d < p.dirs; ++d) {
      const DirectionWeights& w = layer.weights[static_cast<size_t>(d)];
      PackedDirection& pd = p.dir[static_cast<size_t>(d)];
      if (p.fast) {
        if (!fast_panels_done) {
          pack_fast_rows(*m.k->fast, p, FastMatrix::W, 0, w.W.shape[0], w.W.data.data(), pd);
          pack_fast_rows(*m.k->fast, p, FastMatrix::R, 0, w.R.shape[0], w.R.data.data(), pd);
        }
        pack_fast_biases(p, w, pd);
        continue;
      }
      pd.W = pack(*m.k, w.W);
      pd.R = p.recurrent_bf16 ? pack(*m.k, rounded_to_bf16(w.R)) : pack(*m.k, w.R);  // no copy for f32
      pd.Wb = w.Wb.data;
      pd.Rb = w.Rb.data;
      pd.P = w.P.data;
      if (!w.Wp.empty()) pd.Wp = pack(*m.k, w.Wp);
    }
  }
  if (spec.head) {
    PackedHead h;
    h.in = spec.head->input_size;
    h.out = spec.head->output_size;
    h.softmax = spec.head->softmax;
    h.last_step_only = spec.head->last_step_only;
    h.W = pack(*m.k, spec.head->W);
    h.b = spec.head->b.data;
    m.head = std::move(h);
  }
  m.spec = std::move(spec);
  for (RecurrentLayer& layer : m.spec.layers) {
    for (DirectionWeights& w : layer.weights) w = DirectionWeights{};
  }
  if (m.spec.head) {
    m.spec.head->W = Tensor{};
    m.spec.head->b = Tensor{};
  }
}

// Model::load's side of the streaming reader: plans the model from the file's attributes, then
// packs the fused layers' W and R into their panels chunk by chunk as the reader delivers them.
class PackingSink final : public TensorSink {
 public:
  PackingSink(const LoadOptions& options, Model::Impl& m) : options_(options), m_(m) {}
  ~PackingSink() override { static_cast<void>(finish()); }

  Status begin(const ModelSpec& spec) override {
    RECUR_TRY(plan(spec, options_, m_));
    std::vector<kernels::AlignedFloats*> panels;
    int64_t panel_floats = 0;
    for (size_t l = 0; l < spec.layers.size(); ++l) {
      if (!m_.layers[l].fast) continue;
      for (size_t d = 0; d < spec.layers[l].weights.size(); ++d) {
        const DirectionWeights& w = spec.layers[l].weights[d];
        targets_.push_back({&w.W, l, d, FastMatrix::W});
        targets_.push_back({&w.R, l, d, FastMatrix::R});
        PackedDirection& pd = m_.layers[l].dir[d];
        for (kernels::AlignedFloats* a : {&pd.Wf, &pd.Rf, &pd.Rnf}) {
          panels.push_back(a);
          panel_floats += a->size();
        }
      }
    }
    // Fresh panel pages fault (and are zeroed by the kernel) on their first write: for a large
    // model another core takes those faults ahead of the packing, in the order it writes.
    if (panel_floats * static_cast<int64_t>(sizeof(float)) >= kPrefaultMinBytes && load_helpers_allowed(options_)) {
      try {
        prefaulter_ = std::thread([panels] {
          for (kernels::AlignedFloats* a : panels) a->prefault();
        });
      } catch (const std::system_error&) {
        // No thread: the packing takes the faults itself.
      }
    }
    return {};
  }

  // Waits for the prefaulting thread, if any; a weight the packing could not take.
  Status finish() {
    if (prefaulter_.joinable()) prefaulter_.join();
    return status_;
  }

  bool takes(const Tensor& t) const override { return find(t) != nullptr; }

  void rows(const Tensor& t, int64_t row, int64_t count, const float* data) override {
    const Target* target = find(t);
    PackedLayer& p = m_.layers[target->layer];
    if (p.recurrent_bf16 && target->which == FastMatrix::R && status_.ok()) {
      status_ = check_bf16_range(target->layer, target->dir, row, count, t.shape[1], data);
    }
    pack_fast_rows(*m_.k->fast, p, target->which, row, count, data, p.dir[target->dir]);
  }

 private:
  struct Target {
    const Tensor* tensor;
    size_t layer, dir;
    FastMatrix which;
  };
  const Target* find(const Tensor& t) const {
    for (const Target& target : targets_) {
      if (target.tensor == &t) return &target;
    }
    return nullptr;
  }

  static constexpr int64_t kPrefaultMinBytes = 4 << 20;
  const LoadOptions& options_;
  Model::Impl& m_;
  std::vector<Target> targets_;
  std::thread prefaulter_;
  Status status_;
};

}  // namespace

Result<Model> Model::from_spec(const ModelSpec& spec, const LoadOptions& options) {
  try {
    RECUR_TRY(validate(spec, options.check_finite));
    if (options.recurrent_weights == WeightFormat::bf16) RECUR_TRY(check_bf16_range(spec));
    auto impl = std::make_shared<Impl>();
    RECUR_TRY(plan(spec, options, *impl));
    fill(ModelSpec(spec), /*fast_panels_done=*/false, *impl);
    Model model;
    model.impl_ = std::move(impl);
    return model;
  } catch (const std::bad_alloc&) {
    return Status(Errc::out_of_memory, "out of memory while packing the model weights");
  } catch (const std::exception& e) {
    return Status(Errc::internal, std::string("unexpected error while loading: ") + e.what());
  }
}

Result<Model> Model::load(const std::string& path, const LoadOptions& options) {
  try {
    ReadOptions read;
    read.check_finite = options.check_finite;
    read.verify_checksum = options.verify_checksum;
    // The checks of a large file's data run on a second core if the process has one and the
    // caller allows it.
    if (!load_helpers_allowed(options)) read.threaded_check_min_bytes = UINT64_MAX;
    auto impl = std::make_shared<Impl>();
    PackingSink sink(options, *impl);
    Result<ModelFile> file = read_model(path, read, sink);
    Status packed = sink.finish();
    if (!file) return file.status();
    if (!packed.ok()) return packed.with_context(path);
    if (options.recurrent_weights == WeightFormat::bf16) {  // the R the sink did not take
      if (Status s = check_bf16_range(file->spec); !s.ok()) return s.with_context(path);
    }
    fill(std::move(file->spec), /*fast_panels_done=*/true, *impl);
    Model model;
    model.impl_ = std::move(impl);
    return model;
  } catch (const std::bad_alloc&) {
    return Status(Errc::out_of_memory, path + ": out of memory while loading");
  } catch (const std::exception& e) {
    return Status(Errc::internal, path + ": unexpected error while loading: " + e.what());
  }
}

const char* weight_format_name(WeightFormat format) noexcept {
  return format == WeightFormat::bf16 ? "bf16" : "f32";
}

const ModelSpec& Model::spec() const noexcept {
  static const ModelSpec kEmpty;
  return impl_ ? impl_->spec : kEmpty;
}
Isa Model::isa() const noexcept { return impl_ ? impl_->isa : Isa::scalar; }
int64_t Model::input_size() const noexcept { return impl_ ? impl_->input_size : 0; }
int64_t Model::output_size() const noexcept { return impl_ ? impl_->output_size : 0; }
int64_t Model::num_state_rows() const noexcept { return impl_ ? impl_->state_rows : 0; }
bool Model::batch_first() const noexcept { return impl_ && impl_->spec.batch_first; }

}  // namespace recur
