// The gate-panel kernels: gate panels packed once at load, an input-projection GEMM over those
// panels, and fused steps (recurrent GEMV/GEMM + cell update in the epilogue) for LSTM, GRU and
// vanilla RNN with the default activations. One table per ISA (avx512, avx2, scalar), chosen
// once at load together with its packer. No xsimd here: the vector code lives in
// kernels/recurrent_impl.hpp and the headers it includes, compiled once per ISA
// (recurrent_<isa>.cpp).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>

namespace recur::kernels {

// ---- Packed gate panels ----------------------------------------------------------------
// A stacked gate matrix W (G*H, K) (gate blocks in canonical order, row g*H + j = gate g of
// unit j) is packed into panels of `pu` hidden units, pu = S * V (V = floats per vector of the
// ISA, S = sub-blocks per gate, chosen so that G*S >= 4 independent accumulators):
//   panel p (units [p*pu, p*pu + pu)) = K rows of G*S vectors: out[p][k][g][s][v]
//                                     = W[g*H + p*pu + s*V + v][k], zero past unit H.
// One streaming pass over a panel yields every gate of its units, so the cell update is fused.
//
// bf16 panels (recurrent matrices loaded with WeightFormat::bf16): the same lanes, two k per
// 32-bit word: word [p][k/2][g][s][v] holds W[..][k] rounded to bfloat16 (nearest even) in its
// low half and W[..][k+1] in its high half (0 past K). The kernels widen each half to the fp32
// value it stands for and take the products in the same k order, so a bf16 panel gives the bits
// of an fp32 panel of the rounded weights. Half the bytes per step: what B = 1 is bound by.
struct PanelShape {
  int64_t G = 0;       // gate blocks in the matrix
  int64_t H = 0;       // units per gate block
  int64_t K = 0;       // columns (reduction length)
  int64_t V = 0;       // floats per vector
  int64_t S = 0;       // vectors per gate per panel
  bool bf16 = false;   // two bfloat16 weights per 32-bit word (above)
  // Defined in kernels/recurrent_pack.cpp, not inline here: this header is also compiled with
  // ISA flags, and an inline copy emitted there could be the one the portable code links to.
  int64_t units() const;         // units per panel
  int64_t panels() const;
  int64_t k_rows() const;        // rows of G*S vectors per panel
  // 32-bit words (floats, or pairs of bf16) per panel and in all.
  int64_t panel_floats() const;
  int64_t floats() const;
};

// The bfloat16 nearest to x (ties to even); NaN stays NaN, beyond the largest bf16 gives inf.
uint16_t to_bf16(float x) noexcept;
// The fp32 value a bfloat16 stands for (exact).
float from_bf16(uint16_t b) noexcept;
// Index of the first value in x[0, n) that is finite but rounds to infinity as a bfloat16
// (|x| >= 2^128 - 2^119), or n if there is none.
int64_t first_bf16_overflow(const float* x, int64_t n) noexcept;

// Packs W (G*H, K) row-major into shape.floats() words (layout above; bf16 if shape.bf16).
void pack_panels_f32(const PanelShape& shape, const float* W, float* out);
// The same in pieces, for a loader that streams W from a file: zero the padding (lanes past
// unit H, the k past K of a bf16 panel) once, then pack any rows [row0, row0 + n) of W (given
// row-major, K floats each) in any order.
void zero_panel_padding(const PanelShape& shape, float* out);
void pack_panel_rows(const PanelShape& shape, int64_t row0, int64_t n, const float* rows, float* out);

// ---- Kernels ---------------------------------------------------------------------------
// The rows of a GEMM input: row i at base + i * ld, or at ptr[i] when ptr is set (rows gathered
// from anywhere, e.g. the inputs of the rows that take a few time steps). Plain data on
// purpose: the kernels read it with their own code (see vec_math.hpp on the ODR).
struct RowsIn {
  const float* base = nullptr;
  int64_t ld = 0;
  const float* const* ptr = nullptr;
};

// C (M, G*H) = A (M, K) · W^T + bias (G*H), for the units of panels [p0, p1) only; C in the
// canonical gate-block layout (row m, column g*H + j). bias may be null. C[m][n] depends only
// on row m of A, column n of W and bias[n] (k accumulated in order), never on M or the split.
using GatesGemmFn = void (*)(const PanelShape& shape, const float* panels, int64_t M, RowsIn A,
                             const float* bias, float* C, int64_t ldc, int64_t p0, int64_t p1);

// One fused time step for B rows over the units of panels [p0, p1). Each unit's accumulator
// starts from the row's input pre-activation gx (which already holds every bias that is simply
// added; gru with linear_before_reset: its n gate starts from 0 and gx_n is added in the cell),
// the recurrent product h (B, K) · R^T is accumulated onto it in k order, and the cell update
// runs on the accumulators. Rows with gx[b] == null do not take the step: h_next = h on those
// units.
//
// Fused input projection (lstm, rnn; W set): the step computes each row's pre-activations
// itself, with no gx: the accumulator starts from 0, takes x[b] · W^T in k order, then the bias,
// then the recurrent product. That is the arithmetic of the gates GEMM (whose stored sum is the
// same fp32 value) followed by a step, so both routes give the same bits.
struct StepArgs {
  PanelShape shape;              // of R (G*H, K); fp32 or bf16 panels
  const float* R = nullptr;      // packed panels (words)
  int64_t B = 0;                 // rows
  const float* const* gx = nullptr;  // (B) each row's (G_cell*H) pre-activations, or null
                                     // (with W set: only tested for null)
  const float* h = nullptr;      // (B, K), ldh     state before the step (the GEMV input)
  int64_t ldh = 0;
  const float* h_prev = nullptr; // (B, H), ldh_prev  the state combined by gru/inactive rows
  int64_t ldh_prev = 0;
  float* h_next = nullptr;       // (B, H), ldh_next
  int64_t ldh_next = 0;
  float* c = nullptr;            // lstm: (B, H), ldc, updated in place
  int64_t ldc = 0;
  const float* bias_n = nullptr; // gru linear_before_reset: Rb_n (H), inside r ⊙ (R_n h + Rb_n)
  float* z = nullptr;            // gru two-phase: (B, H), ldz  update gate from the zr phase
  float* rh = nullptr;           // gru two-phase: (B, H), ldz  r ⊙ h, input of the n phase
  int64_t ldz = 0;
  bool relu = false;             // rnn: relu instead of tanh
  // Sweep the panels from p1 down to p0. Alternating the direction every step makes the panels
  // read last (still in cache) the first ones read next: when R is a little larger than the
  // cache, a cyclic sweep would miss on every line (LRU), a zig-zag hits on most of the cache.
  // The order of panels never changes a value.
  bool backward = false;
  // B > 1: while a panel's row blocks run, request the next panel's lines into L2 (software
  // prefetch, one line per k; the blocks share them out): W's when fused, and R's when they are
  // fp32 (bf16 panels are not prefetched). For weights the last-level cache cannot hold, which
  // would otherwise reach each panel's first block at memory latency. Never changes a value.
  bool prefetch_next = false;
  // B = 1 over fp32 panels: sweep the panels one at a time instead of in pairs (pairs give twice
  // the independent FMA chains; single panels hit more of a cache that holds only a little more
  // than the sweep's last panels). The runtime's plan decides. Never changes a value.
  bool single_panels = false;
  // Fused input projection (lstm and rnn only): W's packed fp32 panels (the same units per panel
  // as R's), each row's input (I = w_shape.K floats; a row that does not take the step must still
  // point at readable floats) and the bias (G*H).
  const float* W = nullptr;
  PanelShape w_shape;
  const float* const* x = nullptr;
  const float* bias = nullptr;
};
using StepFn = void (*)(const StepArgs& args, int64_t p0, int64_t p1);

// Elementwise y (n) = sigmoid(x) / tanh(x), vectorized; x and y may alias.
using ActivationFn = void (*)(int64_t n, const float* x, float* y);

// The gate-panel kernels of one ISA, chosen once at load with their packing parameters.
//   lstm     G=4 (i, f, g, o):  c = f c + i g, h = o tanh(c)            gx: i f g o
//   gru_lbr  G=3 (z, r, n):     n = tanh(gx_n + r (R_n h + Rb_n))       gx: z r n
//   gru_zr   G=2 (z, r):        z, rh = r ⊙ h                          gx: z r n
//   gru_n    G=1 (n):           n = tanh(gx_n + R_n rh), h = (1-z) n + z h_prev
//   rnn      G=1:               h = tanh|relu(gx + R h)
struct RecurrentKernels {
  const char* name;    // "avx512", "avx2", "scalar"
  int64_t V;           // floats per vector
  StepFn lstm;
  StepFn gru_lbr;
  StepFn gru_zr;
  StepFn gru_n;
  StepFn rnn;
  GatesGemmFn gates;
  ActivationFn sigmoid;
  ActivationFn tanh;

  // The panel shape these kernels expect for a (G*H, K) matrix. bf16 panels are for the
  // step's recurrent matrix only (StepArgs::shape); the input projection's W stays fp32.
  PanelShape shape(int64_t G, int64_t H, int64_t K, bool bf16 = false) const;  // recurrent_pack.cpp
};

const RecurrentKernels& recurrent_f32_avx512() noexcept;
const RecurrentKernels& recurrent_f32_avx2() noexcept;
const RecurrentKernels& recurrent_f32_scalar() noexcept;

}  // namespace recur::kernels
