// LoadOptions::precision = int8: a generic layer whose products run on int8 dynamic quantization
// (kernels/int8.hpp), its cells, biases and peepholes in fp32. Entered from describe (model.cpp),
// LayerPacker::finish (pack.cpp), input_projection and advance (generic_layer.cpp): the same
// sequence semantics, threads and step/run equality as every other layer.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/int8.hpp"
#include "recur/model.hpp"

namespace recur {

struct PackedLayer;
struct StepScratch;

// One weight matrix (N, K) quantized at load: 16-row blocks of int8, scales and compensation.
struct Int8Matrix {
  int64_t N = 0, K = 0, Kp = 0;  // rows, columns, columns padded to 4
  std::vector<int8_t> packed;    // (Np, Kp) in blocks (kernels/int8.hpp)
  std::vector<float> scale;      // (N) one per row
  std::vector<int32_t> comp;     // (Np) 128 Σ_k w, for the VNNI kernels
  bool empty() const { return N == 0; }
};

// A direction's matrices. GRU without linear_before_reset: R holds the z, r rows (2H) and Rn
// the n rows (H), since R_n multiplies r ⊙ h, not h.
struct Int8Direction {
  const kernels::Int8Kernels* k = nullptr;
  Int8Matrix W;   // (G*H, I)
  Int8Matrix R;   // (G*H, Hout), or (2H, H) for gru without linear_before_reset
  Int8Matrix Rn;  // (H, H) gru without linear_before_reset only
  Int8Matrix Wp;  // (Hout, H) projection, empty without one
};

// Per-stream buffers of the int8 steps (inside StepScratch), sized once for B rows.
struct Int8Scratch {
  std::vector<uint8_t> u;    // (B, Kp) a product's quantized input rows
  std::vector<float> sx;     // (B) their scales
  void size_for(const Model::Impl& model, int64_t batch);  // empty without int8 layers
};

// LoadOptions checks: bf16 compute is refused (unsupported); int8 with recurrent_weights =
// bf16 is a contradiction (invalid_argument); RECUR_NO_VNNI other than unset, 0 or 1 is invalid.
Status check_precision(const LoadOptions& options);
bool int8_requested(const LoadOptions& options);

// The int8 kernels for the chosen ISA: VNNI where the CPU has it, unless RECUR_NO_VNNI=1.
const kernels::Int8Kernels& int8_kernels_for(Isa isa);

// generic_layer.cpp's input_projection and advance for a layer with int8 products (same contract).
void int8_input_projection(const PackedLayer& layer, int d, int64_t M, const float* x,
                           int64_t ld_x, float* gx, int threads);
void int8_advance(const Model::Impl& model, const PackedLayer& layer, int d, const float* h,
                  int64_t ldh, float* c, int64_t ldc, StepScratch& s, int threads);

// Quantizes one direction's weights (canonical W (G*H, I), R (G*H, Hout), Wp (Hout, H)).
Int8Direction quantize_direction(const PackedLayer& layer, const kernels::Int8Kernels& k,
                                 const float* W, const float* R, const float* Wp);

}  // namespace recur
