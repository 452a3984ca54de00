// gemm_u8s8s32 written once over an `Ops` of intrinsics (one per ISA file, int8_gemm_<isa>.cpp):
// C (M, N) = Σ_k (u - 128) · w over blocks of 16 packed rows (kernels/int8.hpp), stored as
// int32, or dequantized on the way out (y = float(C) · (sx · sw) + bias, the operations of
// dequantize_rows in the same order, so the same bits).
// A tile is MR input rows × NB blocks: per group of 4 k, NB·VPB weight vectors are loaded once
// and each of the MR rows' 4 bytes is broadcast against them (MR·NB·VPB int32 accumulators).
// Ops provides:
//   V         the vector type; kLanes int32 lanes (16 or 8), VPB = 16 / kLanes vectors per block
//   A         a broadcast input group, prepared once per row and k group by prep()
//   zero(), load(p), prep(u32), dot(acc, A, w), finish(acc, comp) (VNNI: acc - comp),
//   store(p, v), dequantize(v, s, sw, bias, y) (kLanes floats; bias may be null)
//   nb(MR)    blocks per tile for MR rows (fits the register file)
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/int8.hpp"

namespace recur::kernels {

// v itself, but opaque to the compiler: a product so marked is rounded to fp32 before the add
// that follows (no contraction into an FMA, which these files' flags allow), as in
// dequantize_rows.
template <class T>
inline T rounded(T v) {
#if defined(__AVX512F__)
  asm("" : "+v"(v));
#else
  asm("" : "+x"(v));
#endif
  return v;
}

// Where a tile's sums go: int32 C (ld ldc), or y (ld ldy) dequantized with sx (per row), sw and
// bias (per column, may be null). Pointers at the tile's first row and column.
struct Int8Out {
  int32_t* C = nullptr;
  int64_t ldc = 0;
  float* y = nullptr;
  int64_t ldy = 0;
  const float* sx = nullptr;
  const float* sw = nullptr;
  const float* bias = nullptr;
  Int8Out at(int64_t m, int64_t n) const {
    Int8Out o = *this;
    if (C) o.C += m * ldc + n;
    if (y) o.y += m * ldy + n, o.sx += m, o.sw += n, o.bias = bias ? bias + n : nullptr;
    return o;
  }
};

template <class Ops, int MR, int NB>
void int8_tile(int64_t Kq, const uint8_t* u, int64_t ldu, const int8_t* w, int64_t block_bytes,
               const int32_t* comp, const Int8Out& out, int64_t ncols) {
  using V = typename Ops::V;
  constexpr int VPB = kInt8Block / Ops::kLanes;
  V acc[MR][NB * VPB];
  for (int m = 0; m < MR; ++m)
    for (int j = 0; j < NB * VPB; ++j) acc[m][j] = Ops::zero();
  for (int64_t kq = 0; kq < Kq; ++kq) {
    V wv[NB * VPB];
    for (int b = 0; b < NB; ++b)
      for (int v = 0; v < VPB; ++v)
        wv[b * VPB + v] = Ops::load(w + b * block_bytes + kq * kInt8Block * kInt8KGroup + v * Ops::kLanes * kInt8KGroup);
    for (int m = 0; m < MR; ++m) {
      uint32_t bits;
      std::memcpy(&bits, u + m * ldu + kq * kInt8KGroup, sizeof bits);
      const typename Ops::A a = Ops::prep(bits);
      for (int j = 0; j < NB * VPB; ++j) acc[m][j] = Ops::dot(acc[m][j], a, wv[j]);
    }
  }
  for (int m = 0; m < MR; ++m) {
    for (int j = 0; j < NB * VPB; ++j) {
      const V r = Ops::finish(acc[m][j], comp + j * Ops::kLanes);
      const int64_t col = j * Ops::kLanes;
      if (col >= ncols) break;
      const int64_t lanes = std::min<int64_t>(Ops::kLanes, ncols - col);
      if (out.C) {
        if (lanes == Ops::kLanes) {
          Ops::store(out.C + m * out.ldc + col, r);
        } else {
          int32_t tmp[Ops::kLanes];
          Ops::store(tmp, r);
          std::memcpy(out.C + m * out.ldc + col, tmp, sizeof(int32_t) * static_cast<size_t>(lanes));
        }
      } else if (lanes == Ops::kLanes) {
        Ops::dequantize(r, out.sx[m], out.sw + col, out.bias ? out.bias + col : nullptr,
                        out.y + m * out.ldy + col);
      } else {  // the tail lanes, as dequantize_rows computes them
        int32_t tmp[Ops::kLanes];
        Ops::store(tmp, r);
        for (int64_t l = 0; l < lanes; ++l) {
          const float v = rounded(static_cast<float>(tmp[l]) * rounded(out.sx[m] * out.sw[col + l]));
          out.y[m * out.ldy + col + l] = out.bias ? v + out.bias[col + l] : v;
        }
      }
    }
  }
}

// MR rows starting at u over every block of N columns: NB blocks at a time, then single ones.
template <class Ops, int MR>
void int8_rows(int64_t N, int64_t Kp, const uint8_t* u, int64_t ldu, const int8_t* packed,
               const int32_t* comp, const Int8Out& out) {
  constexpr int NB = Ops::nb(MR);
  const int64_t block_bytes = Kp * kInt8Block;
  const int64_t blocks = (N + kInt8Block - 1) / kInt8Block;
  for (int64_t j = 0; j < blocks;) {
    const int64_t col = j * kInt8Block;
    if (blocks - j >= NB) {
      int8_tile<Ops, MR, NB>(Kp / kInt8KGroup, u, ldu, packed + j * block_bytes, block_bytes,
                             comp + col, out.at(0, col), N - col);
      j += NB;
    } else {
      int8_tile<Ops, MR, 1>(Kp / kInt8KGroup, u, ldu, packed + j * block_bytes, block_bytes,
                            comp + col, out.at(0, col), N - col);
      j += 1;
    }
  }
}

// Column groups of kGroupBlocks blocks (their weights, Kp · 128 bytes, stay in L1) over every
// group of up to 4 rows: the weights stream from L2 once per call, not once per 4 rows.
template <class Ops>
void int8_gemm(int64_t M, int64_t N, int64_t Kp, const uint8_t* u, int64_t ldu,
               const int8_t* packed, const int32_t* comp, const Int8Out& out) {
  constexpr int kMaxRows = 4;
  constexpr int64_t kGroupBlocks = 8;
  for (int64_t n0 = 0; n0 < N; n0 += kGroupBlocks * kInt8Block) {
    const int64_t n = std::min(N - n0, kGroupBlocks * kInt8Block);
    const int8_t* w = packed + n0 * Kp;
    for (int64_t m = 0; m < M; m += kMaxRows) {
      const uint8_t* um = u + m * ldu;
      const Int8Out o = out.at(m, n0);
      switch (std::min<int64_t>(kMaxRows, M - m)) {
        case 1: int8_rows<Ops, 1>(n, Kp, um, ldu, w, comp + n0, o); break;
        case 2: int8_rows<Ops, 2>(n, Kp, um, ldu, w, comp + n0, o); break;
        case 3: int8_rows<Ops, 3>(n, Kp, um, ldu, w, comp + n0, o); break;
        default: int8_rows<Ops, 4>(n, Kp, um, ldu, w, comp + n0, o); break;
      }
    }
  }
}

template <class Ops>
void gemm_u8s8s32(int64_t M, int64_t N, int64_t Kp, const uint8_t* u, int64_t ldu,
                  const int8_t* packed, const int32_t* comp, int32_t* C, int64_t ldc) noexcept {
  Int8Out out;
  out.C = C;
  out.ldc = ldc;
  int8_gemm<Ops>(M, N, Kp, u, ldu, packed, comp, out);
}

template <class Ops>
void gemm_u8s8f32(int64_t M, int64_t N, int64_t Kp, const uint8_t* u, int64_t ldu,
                  const int8_t* packed, const int32_t* comp, const float* sx, const float* sw,
                  const float* bias, float* y, int64_t ldy) noexcept {
  Int8Out out;
  out.y = y;
  out.ldy = ldy;
  out.sx = sx;
  out.sw = sw;
  out.bias = bias;
  int8_gemm<Ops>(M, N, Kp, u, ldu, packed, comp, out);
}

}  // namespace recur::kernels
