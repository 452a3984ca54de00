// Model: load (read + validate), choose each layer's kernels, pack the weights (runtime/pack.hpp),
// keep the config apart from them, drop the originals.
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
#include "runtime/isa.hpp"
#include "runtime/model_impl.hpp"
#include "runtime/pack.hpp"
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

// Whether Model::load may use threads besides the caller's: LoadOptions::threads != 1 and a
// second CPU to run them on.
bool load_helpers_allowed(const LoadOptions& options) {
  return options.threads != 1 && available_cpus() >= 2;
}

// Chooses the ISA and each layer's kernels and fills m's attributes; reads no weight. The spec
// is valid at least in its shapes.
Status describe(const ModelSpec& spec, const LoadOptions& options, LayerKernels kernels, Model::Impl& m) {
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
    // Layers the gate-panel kernels cover run on them (runtime/panel_layer.hpp).
    p.gate_panels = kernels == LayerKernels::best && gate_panels_apply(*m.k, layer, p.dir);
    if (const char* v = std::getenv("RECUR_VERBOSE"); v && std::strcmp(v, "1") == 0) {
      std::fprintf(stderr, "recur: layer %zu (%s, H=%lld): %s\n", m.layers.size(), cell_name(layer.cell),
                   static_cast<long long>(layer.hidden_size),
                   p.gate_panels ? "gate-panel kernels" : "generic kernels (options outside the gate-panel kernels)");
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

// The attributes of `spec`, without the weights (they live packed).
ModelConfig config_of(const ModelSpec& spec) {
  ModelConfig c;
  c.name = spec.name;
  c.producer = spec.producer;
  c.source = spec.source;
  c.source_hash = spec.source_hash;
  c.batch_first = spec.batch_first;
  for (const RecurrentLayer& layer : spec.layers) c.layers.push_back(layer);
  if (spec.head) c.head = static_cast<const HeadConfig&>(*spec.head);
  c.parameter_count = spec.parameter_count();
  return c;
}

// Packs what the packers have not taken (all of it for from_spec), then the head.
Status finish_packing(const ModelSpec& spec, std::vector<LayerPacker>& packers, Model::Impl& m) {
  for (size_t l = 0; l < packers.size(); ++l) RECUR_TRY(packers[l].finish(spec.layers[l].weights));
  if (spec.head) m.head = pack_head(*m.k, *spec.head);
  return {};
}

std::vector<LayerPacker> packers_for(Model::Impl& m) {
  std::vector<LayerPacker> packers;
  for (size_t l = 0; l < m.layers.size(); ++l) packers.emplace_back(*m.k, l, m.layers[l]);
  return packers;
}

// Model::load's side of the streaming reader: plans the model from the file's attributes, then
// packs the fused layers' W and R into their panels chunk by chunk as the reader delivers them.
class PackingSink final : public TensorSink {
 public:
  PackingSink(const LoadOptions& options, Model::Impl& m) : options_(options), m_(m) {}
  ~PackingSink() override { static_cast<void>(finish()); }

  Status begin(const ModelSpec& spec) override {
    RECUR_TRY(describe(spec, options_, LayerKernels::best, m_));
    packers_ = packers_for(m_);
    std::vector<AlignedFloats*> panels;
    for (size_t l = 0; l < spec.layers.size(); ++l) {
      if (!packers_[l].streams()) continue;
      packers_[l].panel_storage(panels);
      for (size_t d = 0; d < spec.layers[l].weights.size(); ++d) {
        const DirectionWeights& w = spec.layers[l].weights[d];
        targets_.push_back({&w.W, l, static_cast<int>(d), Matrix::W});
        targets_.push_back({&w.R, l, static_cast<int>(d), Matrix::R});
      }
    }
    int64_t panel_floats = 0;
    for (const AlignedFloats* a : panels) panel_floats += a->size();
    // Fresh panel pages fault (and are zeroed by the kernel) on their first write: for a large
    // model another core takes those faults ahead of the packing, in the order it writes.
    if (panel_floats * static_cast<int64_t>(sizeof(float)) >= kPrefaultMinBytes && load_helpers_allowed(options_)) {
      try {
        prefaulter_ = std::thread([panels] {
          for (AlignedFloats* a : panels) a->prefault();
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

  // The packers, once begin() made them; finish_packing packs the rest.
  std::vector<LayerPacker>& packers() { return packers_; }

  bool takes(const Tensor& t) const override { return find(t) != nullptr; }

  void rows(const Tensor& t, int64_t row, int64_t count, const float* data) override {
    const Target* target = find(t);
    if (!status_.ok()) return;
    status_ = packers_[target->layer].rows(target->dir, target->which, row, count, data);
  }

 private:
  struct Target {
    const Tensor* tensor;
    size_t layer;
    int dir;
    Matrix which;
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
  std::vector<LayerPacker> packers_;
  std::vector<Target> targets_;
  std::thread prefaulter_;
  Status status_;
};

}  // namespace

Result<Model> ModelFactory::from_spec(const ModelSpec& spec, const LoadOptions& options, LayerKernels kernels) {
  try {
    RECUR_TRY(validate(spec, options.check_finite));
    auto impl = std::make_shared<Model::Impl>();
    RECUR_TRY(describe(spec, options, kernels, *impl));
    std::vector<LayerPacker> packers = packers_for(*impl);
    RECUR_TRY(finish_packing(spec, packers, *impl));
    impl->config = config_of(spec);
    Model model;
    model.impl_ = std::move(impl);
    return model;
  } catch (const std::bad_alloc&) {
    return Status(Errc::out_of_memory, "out of memory while packing the model weights");
  } catch (const std::exception& e) {
    return Status(Errc::internal, std::string("unexpected error while loading: ") + e.what());
  }
}

Result<Model> Model::from_spec(const ModelSpec& spec, const LoadOptions& options) {
  return ModelFactory::from_spec(spec, options, LayerKernels::best);
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
    if (Status s = finish_packing(file->spec, sink.packers(), *impl); !s.ok()) return s.with_context(path);
    impl->config = config_of(file->spec);
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

const ModelConfig& Model::config() const noexcept {
  static const ModelConfig kEmpty;
  return impl_ ? impl_->config : kEmpty;
}
Isa Model::isa() const noexcept { return impl_ ? impl_->isa : Isa::scalar; }
int64_t Model::input_size() const noexcept { return impl_ ? impl_->input_size : 0; }
int64_t Model::output_size() const noexcept { return impl_ ? impl_->output_size : 0; }
int64_t Model::num_state_rows() const noexcept { return impl_ ? impl_->state_rows : 0; }
bool Model::batch_first() const noexcept { return impl_ && impl_->config.batch_first; }

}  // namespace recur
