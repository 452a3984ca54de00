// int8 dynamic quantization: weights quantized once at load (symmetric s8, one scale per output
// row), the input rows of each product quantized at run time (symmetric, one scale per row,
// stored as u8 with zero point 128), products summed exactly in int32, then dequantized.
//
// The scheme, for a product y (M, N) = x (M, K) · Wᵀ + bias:
//   weights   sw[n] = max_k |W[n][k]| / 127,  w[n][k] = clamp(rne(W[n][k] * (127 / max)), ±127)
//   inputs    sx[m] = max_k |x[m][k]| / 127,  q[m][k] = clamp(rne(x[m][k] * (127 / max)), ±127),
//             stored u[m][k] = q + 128 (u8; 128 past K); a row whose max is below FLT_MIN is
//             all zeros with sx = 0
//   sums      C[m][n] = Σ_k q[m][k] · w[n][k]   (exact int32: |C| ≤ 127² K, K ≤ kMaxK)
//   output    y[m][n] = float(C[m][n]) · (sx[m] · sw[n]) + bias[n]   (multiply, then add)
// rne = round to nearest, ties to even; `127 / max` is one fp32 division. Every step is fixed fp32
// or integer arithmetic, so u, sx, C and y are the same bits on every ISA and at every M, N
// split and thread count (run equals step bit for bit).
//
// How each ISA gets Σ q·w (all exact, so the same integers):
//   VNNI (vpdpbusd, u8 × s8 → s32, AVX512-VNNI / AVX-VNNI): Σ u·w, minus comp[n] = 128 Σ_k w[n][k]
//   AVX2 / AVX-512 without VNNI: vpmaddubsw on |q| and sign(q)·w (pairs ≤ 2·127² < 2^15, no
//     saturation), then vpmaddwd with ones into s32
//   scalar: the plain sum.
// No xsimd here (xsimd 8.1 has no VNNI): intrinsics in the per-ISA files int8_gemm_<isa>.cpp.
#pragma once

#include <cstdint>

namespace recur::kernels {

inline constexpr int64_t kInt8Block = 16;    // output rows per packed block
inline constexpr int64_t kInt8KGroup = 4;    // k per 32-bit group (one vpdpbusd lane)
inline constexpr int64_t kInt8MaxK = 65536;  // 255 · 127 · K stays inside int32
inline constexpr int kInt8ZeroPoint = 128;   // u = q + 128

inline int64_t int8_padded_k(int64_t K) { return (K + kInt8KGroup - 1) / kInt8KGroup * kInt8KGroup; }
inline int64_t int8_padded_n(int64_t N) { return (N + kInt8Block - 1) / kInt8Block * kInt8Block; }

// ---- At load ---------------------------------------------------------------------------
// W (N, K) row-major -> packed (int8_padded_n(N) * int8_padded_k(K) bytes), blocks of 16 rows
// with k in groups of 4: packed[((j * Kp/4 + k/4) * 16 + n%16) * 4 + k%4] = w[16 j + n%16][k]
// (0 past N and K); scale (N) = sw; comp (int8_padded_n(N)) = 128 Σ_k w[n][k] (0 past N).
void quantize_pack_s8(int64_t N, int64_t K, const float* W, int8_t* packed, float* scale,
                      int32_t* comp) noexcept;

// ---- At run time -------------------------------------------------------------------------
// x (M, K), ld ldx -> u (M, Kp) u8, ld ldu (>= Kp = int8_padded_k(K)), and sx (M), as above.
void quantize_rows_u8(int64_t M, int64_t K, const float* x, int64_t ldx, uint8_t* u, int64_t ldu,
                      float* sx) noexcept;

// y (M, N), ld ldy = float(C) · (sx[m] · sw[n]) + bias[n]; bias may be null.
void dequantize_rows(int64_t M, int64_t N, const int32_t* C, int64_t ldc, const float* sx,
                     const float* sw, const float* bias, float* y, int64_t ldy) noexcept;

// C (M, N) int32, ld ldc = Σ_k (u[m][k] - 128) · w[n][k] over k < Kp, for the N columns whose
// packed blocks start at `packed` (a multiple of 16 rows into the matrix; comp offset alike).
// u (M, Kp), ld ldu, as quantize_rows_u8 writes it. Kernels that do not use comp ignore it.
using GemmU8S8Fn = void (*)(int64_t M, int64_t N, int64_t Kp, const uint8_t* u, int64_t ldu,
                            const int8_t* packed, const int32_t* comp, int32_t* C,
                            int64_t ldc) noexcept;

// The same sums dequantized on the way out: y (M, N), ld ldy = float(C) · (sx[m] · sw[n]) +
// bias[n], the bits dequantize_rows gives (sw, bias offset like comp; bias may be null).
using GemmU8S8F32Fn = void (*)(int64_t M, int64_t N, int64_t Kp, const uint8_t* u, int64_t ldu,
                               const int8_t* packed, const int32_t* comp, const float* sx,
                               const float* sw, const float* bias, float* y, int64_t ldy) noexcept;

struct Int8Kernels {
  const char* name;  // e.g. "avx512_vnni"
  GemmU8S8Fn gemm;
  GemmU8S8F32Fn gemm_dequant;
};

// gemm_u8s8s32_<isa>: one per instruction set; the runtime picks one after CPU detection.
const Int8Kernels& int8_kernels_scalar() noexcept;
const Int8Kernels& int8_kernels_avx2() noexcept;         // vpmaddubsw
const Int8Kernels& int8_kernels_avx2_vnni() noexcept;    // AVX-VNNI vpdpbusd, 256-bit
const Int8Kernels& int8_kernels_avx512() noexcept;       // vpmaddubsw, 512-bit
const Int8Kernels& int8_kernels_avx512_vnni() noexcept;  // AVX512-VNNI vpdpbusd

}  // namespace recur::kernels
