// The runtime API: an immutable, thread-safe Model (loaded and packed once) and a per-stream
// State. `run` processes whole batches of sequences; `step` advances a stream by one time step.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "recur/export.h"
#include "recur/spec.hpp"
#include "recur/status.hpp"

namespace recur {

// Which instruction set the kernels use. `best` = the widest the CPU supports; the
// RECUR_ISA environment variable (avx512|avx2|scalar) overrides `best` at load.
enum class Isa { best, avx512, avx2, scalar };
RECUR_API const char* isa_name(Isa isa) noexcept;

// How the recurrent matrices (R: the weights applied to the previous h at every step) are kept
// once loaded.
//   f32:  as in the file.
//   bf16: rounded to bfloat16 (nearest, ties to even; about 3 significant digits per weight).
//         Each step streams half the bytes, which is what batch-1 latency is bound by; every
//         product and sum stays fp32 (the weights are widened exactly in registers). Results
//         are exactly those of the f32 model whose R was rounded so; they differ from the f32
//         results by that rounding. Input weights, biases, peepholes, projections and the head
//         stay f32.
enum class WeightFormat { f32, bf16 };
RECUR_API const char* weight_format_name(WeightFormat format) noexcept;

// The arithmetic of the layers' matrix products, chosen at load (docs/precision.md).
//   file: the file's own precision (fp32 for every file today).
//   f32:  fp32 weights and products.
//   int8: dynamic quantization: W, R and the projection quantized once at load (symmetric int8,
//         one scale per output row), each product's input rows (x, h, ...) quantized at run
//         time (one scale per row), products summed exactly in int32 (VNNI where the CPU has
//         it), dequantized; biases, peepholes, cells and the head stay fp32. Every cell and
//         option; the same bits on every ISA and thread count. Not with recurrent_weights = bf16.
//   bf16: bf16 products; not implemented yet: refused at load (unsupported). The exact mode
//         "bf16r" (bf16 storage of R, fp32 products) is recurrent_weights = bf16 above.
enum class Precision { file, f32, bf16, int8 };
RECUR_API const char* precision_name(Precision precision) noexcept;
// "file", "f32", "bf16", "int8" -> the Precision; false for any other name.
RECUR_API bool parse_precision(const std::string& name, Precision& out) noexcept;

struct RECUR_API LoadOptions {
  Isa isa = Isa::best;
  bool check_finite = true;  // reject NaN/Inf weights
  bool verify_checksum = true;
  WeightFormat recurrent_weights = WeightFormat::f32;
  int threads = 0;  // Model::load of a large file: 0 = the caller's thread and up to two
                    // helpers when 2+ CPUs are available; 1 = the caller's thread only
                    // (0..1024)
  Precision precision = Precision::file;
};

// The CPUs this process may use: those in its affinity mask, capped by a cgroup CPU quota (a
// container granted 2 CPUs gets 2), at least 1. The most threads worth asking for.
RECUR_API int available_cpus() noexcept;

struct RunOptions;
// The thread count run/step take for options.threads (RunOptions below), before each loop's
// own cap by the work it has.
RECUR_API int resolved_threads(const RunOptions& options) noexcept;

struct RECUR_API RunOptions {
  int threads = 0;            // 0 = automatic: RECUR_NUM_THREADS, else OMP_NUM_THREADS (first
                              // value), else 1 -- one thread per call unless asked, safe for a
                              // service; an environment value is capped by available_cpus() and
                              // ignored unless an integer in 1..1024. N > 0: up to N threads
                              // (fewer when the work is too small); 1 = the caller's thread only
  bool check_finite = true;   // reject NaN/Inf in x, h0, c0 with non_finite instead of propagating
};

// The memory order of x and y in run(). `model` (the default) is the layout the model was
// converted with (ModelSpec::batch_first, from the file), so a zero-initialised RunInput reads
// x the way the source framework's model did.
enum class Layout {
  model,        // the model's own: (B, T, ·) when Model::batch_first(), else (T, B, ·)
  time_major,   // (T, B, ·)
  batch_first,  // (B, T, ·)
};
RECUR_API const char* layout_name(Layout layout) noexcept;

// Views of caller-owned input arrays, fp32, row-major, dense. In h0/c0 (and h_n/c_n) Hout and
// H are the widest over the layers; a narrower layer uses the leading columns of its rows.
// With lengths, a sequence of length L < T takes steps 0..L-1 only (a reverse direction runs
// L-1..0): its outputs at steps >= L are zero (a head sees that zero vector) and its final
// state is the one after its own last step (h0/c0 when L = 0).
struct RECUR_API RunInput {
  const float* x = nullptr;      // (T, B, I) time-major or (B, T, I) batch-first, per `layout`
  int64_t seq_len = 0;           // T
  int64_t batch = 0;             // B
  Layout layout = Layout::model; // layout of x and y
  const float* h0 = nullptr;     // (L*D, B, Hout) or null for the model's default (zeros if none)
  const float* c0 = nullptr;     // (L*D, B, H) or null likewise; lstm only
  const int32_t* lengths = nullptr;  // (B) each in [0, T], or null for all T
  // A model with an embedding (ModelSpec::embedding) takes token ids instead of x: (T, B), or
  // (B, T) when batch_first, each in [0, vocab_size). x is null then.
  const int64_t* tokens = nullptr;
};

// Results of run(), owned. Shapes follow PyTorch: y (T, B, Dout) or (B, T, Dout) when the
// input's layout is batch-first, (B, Dout) when the head is last-step-only; h_n (L*D, B, Hout); c_n (L*D, B, H)
// (empty for models without LSTM layers; rows of non-LSTM layers are zero). A model with a
// final-state output (ModelSpec::final_state) has those h_n rows as y: (rows, B, W) or (B, W).
// Without h0 / c0 a run starts from the model's default initial state (zeros unless the file
// has one).
struct RECUR_API RunOutput {
  std::vector<float> y;
  std::vector<int64_t> y_shape;
  std::vector<float> h_n;
  std::vector<int64_t> h_shape;
  std::vector<float> c_n;
  std::vector<int64_t> c_shape;
};

class Model;

// What a loaded Model is, without its weights (those live packed in its kernels' layouts): the
// spec's name, provenance and layout, every layer's and the head's attributes, and the number
// of weights the spec held (ModelSpec::parameter_count).
struct RECUR_API ModelConfig {
  std::string name;
  std::string producer;
  std::string source;
  std::string source_hash;
  bool batch_first = false;
  std::map<std::string, std::string> metadata;  // free-form user key/values (ModelSpec::metadata)
  int64_t vocab_size = 0;                       // > 0: an embedding; run() takes token ids
  std::vector<LayerConfig> layers;
  std::optional<HeadConfig> head;
  std::optional<FinalStateOutput> final_state;  // y = these rows of h_n
  int64_t final_state_width = 0;                // W of those rows
  bool initial_state = false;                   // the file holds a default initial state
  int64_t parameter_count = 0;

  int64_t input_size() const noexcept { return layers.empty() ? 0 : layers.front().input_size; }
  // Width of the model's per-step output: the head's output_size, the final state's width, else
  // the last layer's width.
  int64_t output_size() const noexcept {
    if (head) return head->output_size;
    if (final_state) return final_state_width;
    return layers.empty() ? 0 : layers.back().output_width();
  }
  // Widths of h0/h_n (the widest Hout) and c0/c_n (the widest lstm H, 0 without lstm layers).
  int64_t state_width() const noexcept {
    int64_t w = 0;
    for (const LayerConfig& l : layers) w = std::max(w, l.output_size());
    return w;
  }
  int64_t cell_width() const noexcept {
    int64_t w = 0;
    for (const LayerConfig& l : layers) w = l.cell == CellType::lstm ? std::max(w, l.hidden_size) : w;
    return w;
  }
};

// Per-stream recurrent state for `Model::step`: h (and c) of every layer for a fixed batch,
// plus the scratch a step needs, sized once. Cheap to create, movable, not shareable between
// threads at the same time. A State belongs to the Model that made it.
class RECUR_API State {
 public:
  State();
  ~State();
  State(State&&) noexcept;
  State& operator=(State&&) noexcept;
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  int64_t batch() const noexcept;
  void reset() noexcept;  // back to the model's default initial state (zeros if it has none)
  // Set the state from arrays shaped like run()'s h0 (L*D, B, Hout) and c0 (L*D, B, H); a null
  // pointer sets zeros.
  Status set(const float* h, const float* c);
  // Copy the state out, shaped like run()'s h_n / c_n.
  Status get(float* h, float* c) const;

  struct Impl;
 private:
  friend class Model;

  std::unique_ptr<Impl> impl_;
};

class RECUR_API Model {
 public:
  // Reads, validates and packs a .recur file. With 2 or more CPUs available and
  // options.threads != 1, a file of 4 MiB or more of weights is checked (checksum, finite test)
  // on a second thread while the calling thread reads and packs, and the fresh panel pages are
  // faulted in on another: the same result, sooner. Both threads end before load returns.
  static Result<Model> load(const std::string& path, const LoadOptions& options = {});
  static Result<Model> from_spec(const ModelSpec& spec, const LoadOptions& options = {});

  const ModelConfig& config() const noexcept;  // the layers' and head's attributes, no weights
  Isa isa() const noexcept;                // the ISA actually chosen
  int64_t input_size() const noexcept;
  int64_t output_size() const noexcept;    // per-step width of y
  int64_t num_state_rows() const noexcept; // L*D
  bool batch_first() const noexcept;       // the model's own layout (Layout::model): (B, T, ·)

  Result<RunOutput> run(const RunInput& input, const RunOptions& options = {}) const;

  // Streaming: one time step for every stream in the state. x (B, I) -> y (B, output_size()).
  // Needs a model without reverse or bidirectional layers, embedding or final-state output. A
  // new State holds the model's default initial state. Does not allocate. T steps equal
  // one run() bit for bit; a last-step-only head is applied at every step.
  Result<State> new_state(int64_t batch) const;
  Status step(State& state, const float* x, float* y, const RunOptions& options = {}) const;

  struct Impl;
 private:
  friend struct ModelFactory;  // internal: builds a Model with its layers' kernels forced (tests)
  std::shared_ptr<const Impl> impl_;
};

}  // namespace recur
