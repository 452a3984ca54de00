// The seam between runtime/ (orchestration, threads, buffers) and kernels/ (arithmetic):
// the kernel signatures, their parameter blocks, and the table of kernel pointers that Model
// fills once at load from the chosen ISA. Kernels compute on raw pointers, sizes and strides
// (in elements); they never allocate, spawn threads, dispatch or fail. See kernels/NAMING.md.
#pragma once

#include <cstdint>

namespace recur::kernels {

struct RecurrentKernels;  // kernels/recurrent.hpp: the gate-panel kernels

// ONNX activation functions (onnx/docs/Operators.md, RNN/LSTM/GRU "activations").
enum class ActKind : uint8_t {
  sigmoid,           // 1 / (1 + e^-x)
  tanh,              // tanh(x)
  relu,              // max(0, x)
  hard_sigmoid,      // min(max(alpha*x + beta, 0), 1)
  leaky_relu,        // x >= 0 ? x : alpha*x
  thresholded_relu,  // x > alpha ? x : 0
  scaled_tanh,       // alpha * tanh(beta*x)
  affine,            // alpha*x + beta
  elu,               // x >= 0 ? x : alpha*(e^x - 1)
  softsign,          // x / (1 + |x|)
  softplus,          // log(1 + e^x)
};

struct Act {
  ActKind kind = ActKind::tanh;
  float alpha = 0.0f;
  float beta = 0.0f;
};

// ---- Matrix product --------------------------------------------------------------------
// C (M, N) = A (M, K) · B (K, N) + bias (N), bias may be null. All row-major with leading
// dimensions lda, ldb, ldc. B is a weight matrix in the layout produced by the table's
// `pack` (for the _ref kernels: the transpose of the canonical (N, K) matrix).
// Contract every implementation must keep, because step() must equal run() bit for bit and
// results must not depend on the thread count: the value of C[m][n] depends only on row m of
// A, column n of B and bias[n] — never on M, on m's position, or on how N is split.
using GemmFn = void (*)(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                        const float* B, int64_t ldb, const float* bias, float* C, int64_t ldc);

// Packs a canonical row-major weight matrix W (N, K) into `out` (K*N floats) for GemmFn.
using PackFn = void (*)(int64_t N, int64_t K, const float* W, float* out);

// ---- Cell updates ----------------------------------------------------------------------
// Each cell kernel updates ONE batch row for hidden units [0, n) of a layer with H units;
// the caller offsets every pointer to its first unit (so a thread can own a unit range).
// gx: gate pre-activations from the input, W x + Wb; rec: from the state, R h + Rb. Gate k of
// unit j sits at [k*H + j] in both. clip > 0 clips each pre-activation to [-clip, clip].

// Vanilla RNN: h = f(clip(gx + rec)).
struct RnnCellParams {
  Act f;
  float clip = 0.0f;
};
using RnnCellFn = void (*)(const RnnCellParams& p, int64_t n, const float* gx, const float* rec,
                           float* h);

// LSTM, gates i, f, g, o (ONNX semantics, peepholes P laid out i, f, o each H wide):
//   i = f(clip(gx_i + rec_i + P_i c))        f = input_forget ? 1 - i : f(clip(... + P_f c))
//   g = g(clip(gx_g + rec_g))                c' = f c + i g
//   o = f(clip(gx_o + rec_o + P_o c'))       hc = o h(c')
// c (n) is updated in place; hc (n) receives o ⊙ h(c') (the new h, or the projection's input).
struct LstmCellParams {
  Act f, g, h;
  float clip = 0.0f;
  bool input_forget = false;
  int64_t H = 0;             // gate stride in gx, rec and P
  const float* P = nullptr;  // peepholes offset to the first unit, or null
};
using LstmCellFn = void (*)(const LstmCellParams& p, int64_t n, const float* gx, const float* rec,
                            float* c, float* hc);

// GRU, gates z, r, n (ONNX semantics):
//   z = f(clip(gx_z + rec_z))   r = f(clip(gx_r + rec_r))
//   linear_before_reset: n = g(clip(gx_n + r ⊙ rec_n)), rec_n = R_n h + Rb_n
//   otherwise:           n = g(clip(gx_n + rec_n)),     rec_n = R_n (r ⊙ h) + Rb_n
//   h' = (1 - z) ⊙ n + z ⊙ h
struct GruCellParams {
  Act f, g;
  float clip = 0.0f;
  bool linear_before_reset = false;
  int64_t H = 0;  // gate stride in gx and rec
};
// rh (n) = r ⊙ h_prev, the input of R_n when linear_before_reset is off. Reads z/r blocks only.
using GruResetFn = void (*)(const GruCellParams& p, int64_t n, const float* gx, const float* rec,
                            const float* h_prev, float* rh);
// h (n) = the new state; h_prev (n) the old one (may not alias h).
using GruCellFn = void (*)(const GruCellParams& p, int64_t n, const float* gx, const float* rec,
                           const float* h_prev, float* h);

// ---- Head ------------------------------------------------------------------------------
// In place over one row of n values: x = softmax(x) (max-subtracted).
using SoftmaxFn = void (*)(int64_t n, float* x);

// The kernels one Model uses, chosen once at load.
struct KernelTable {
  const char* name;  // e.g. "ref"
  PackFn pack;       // matches gemm
  GemmFn gemm;
  RnnCellFn rnn_cell;
  LstmCellFn lstm_cell;
  GruResetFn gru_reset;
  GruCellFn gru_cell;
  SoftmaxFn softmax;
  // The gate-panel kernels of this ISA (kernels/recurrent.hpp), or null: layers they cover
  // are packed into gate panels instead of the layout of `pack`.
  const RecurrentKernels* panels = nullptr;
};

// The plain-loop kernels: the generic kernels of every table, and the oracle every vector
// kernel is tested against.
const KernelTable& ref_kernels() noexcept;
// The generic kernels plus the gate-panel kernels of one ISA (kernels/kernel_tables.cpp).
const KernelTable& avx512_kernels() noexcept;
const KernelTable& avx2_kernels() noexcept;
const KernelTable& scalar_kernels() noexcept;

// The _ref kernels by name (kernels/*_ref.cpp).
void pack_kn_f32_ref(int64_t N, int64_t K, const float* W, float* out);
void gemm_f32_ref(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
                  int64_t ldb, const float* bias, float* C, int64_t ldc);
void rnn_cell_f32_ref(const RnnCellParams& p, int64_t n, const float* gx, const float* rec,
                      float* h);
void lstm_cell_f32_ref(const LstmCellParams& p, int64_t n, const float* gx, const float* rec,
                       float* c, float* hc);
void gru_reset_f32_ref(const GruCellParams& p, int64_t n, const float* gx, const float* rec,
                       const float* h_prev, float* rh);
void gru_cell_f32_ref(const GruCellParams& p, int64_t n, const float* gx, const float* rec,
                      const float* h_prev, float* h);
void softmax_f32_ref(int64_t n, float* x);
// In place over n values: x = act(x), x = clip(x) (no-op for clip <= 0).
void activation_f32_ref(Act act, int64_t n, float* x);
void clip_f32_ref(float clip, int64_t n, float* x);

}  // namespace recur::kernels
