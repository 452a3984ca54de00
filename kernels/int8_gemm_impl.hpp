// gemm_u8s8s32 written once over an `Ops` of intrinsics (one per ISA file, int8_gemm_<isa>.cpp):
// C (M, N) = Σ_k (u - 128) · w over blocks of 16 packed rows (kernels/int8.hpp).
// A tile is MR input rows × NB blocks: per group of 4 k, NB·VPB weight vectors are loaded once
// and each of the MR rows' 4 bytes is broadcast against them (MR·NB·VPB int32 accumulators).
// Ops provides:
//   V         the vector type; kLanes int32 lanes (16 or 8), VPB = 16 / kLanes vectors per block
//   A         a broadcast input group, prepared once per row and k group by prep()
//   zero(), load(p), prep(u32), dot(acc, A, w), finish(acc, comp) (VNNI: acc - comp),
//   store(p, v)
//   nb(MR)    blocks per tile for MR rows (fits the register file)
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/int8.hpp"

namespace recur::kernels {

template <class Ops, int MR, int NB>
void int8_tile(int64_t Kq, const uint8_t* const* u, const int8_t* w, int64_t block_bytes,
               const int32_t* comp, int32_t* const* c, int64_t ncols) {
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
      std::memcpy(&bits, u[m] + kq * kInt8KGroup, sizeof bits);
      const typename Ops::A a = Ops::prep(bits);
      for (int j = 0; j < NB * VPB; ++j) acc[m][j] = Ops::dot(acc[m][j], a, wv[j]);
    }
  }
  for (int m = 0; m < MR; ++m) {
    for (int j = 0; j < NB * VPB; ++j) {
      const V r = Ops::finish(acc[m][j], comp + j * Ops::kLanes);
      const int64_t col = j * Ops::kLanes;
      if (col + Ops::kLanes <= ncols) {
        Ops::store(c[m] + col, r);
      } else if (col < ncols) {
        int32_t lanes[Ops::kLanes];
        Ops::store(lanes, r);
        std::memcpy(c[m] + col, lanes, sizeof(int32_t) * static_cast<size_t>(ncols - col));
      }
    }
  }
}

// MR rows starting at u over every block of N columns: NB blocks at a time, then single ones.
template <class Ops, int MR>
void int8_rows(int64_t N, int64_t Kp, const uint8_t* u, int64_t ldu, const int8_t* packed,
               const int32_t* comp, int32_t* C, int64_t ldc) {
  constexpr int NB = Ops::nb(MR);
  const uint8_t* rows[MR];
  int32_t* out[MR];
  const int64_t block_bytes = Kp * kInt8Block;
  const int64_t blocks = (N + kInt8Block - 1) / kInt8Block;
  int64_t j = 0;
  for (; j < blocks; j += (blocks - j >= NB ? NB : 1)) {
    for (int m = 0; m < MR; ++m) {
      rows[m] = u + m * ldu;
      out[m] = C + m * ldc + j * kInt8Block;
    }
    const int64_t ncols = N - j * kInt8Block;
    if (blocks - j >= NB) {
      int8_tile<Ops, MR, NB>(Kp / kInt8KGroup, rows, packed + j * block_bytes, block_bytes,
                             comp + j * kInt8Block, out, ncols);
    } else {
      int8_tile<Ops, MR, 1>(Kp / kInt8KGroup, rows, packed + j * block_bytes, block_bytes,
                            comp + j * kInt8Block, out, ncols);
    }
  }
}

template <class Ops>
void gemm_u8s8s32(int64_t M, int64_t N, int64_t Kp, const uint8_t* u, int64_t ldu,
                  const int8_t* packed, const int32_t* comp, int32_t* C, int64_t ldc) noexcept {
  constexpr int kMaxRows = 4;
  for (int64_t m = 0; m < M; m += kMaxRows) {
    const uint8_t* um = u + m * ldu;
    int32_t* cm = C + m * ldc;
    switch (std::min<int64_t>(kMaxRows, M - m)) {
      case 1: int8_rows<Ops, 1>(N, Kp, um, ldu, packed, comp, cm, ldc); break;
      case 2: int8_rows<Ops, 2>(N, Kp, um, ldu, packed, comp, cm, ldc); break;
      case 3: int8_rows<Ops, 3>(N, Kp, um, ldu, packed, comp, cm, ldc); break;
      default: int8_rows<Ops, 4>(N, Kp, um, ldu, packed, comp, cm, ldc); break;
    }
  }
}

}  // namespace recur::kernels
