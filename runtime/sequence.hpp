// The sequence semantics of run(), defined once for both layer loops (runtime/generic_layer.cpp,
// runtime/panel_layer.cpp): where loop step s of batch row b lies in time and among the T*B rows
// of x, y and every layer's output, and the state a (layer, direction) starts from (h0/c0) and
// leaves (h_n/c_n).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace recur {

struct Sequence {
  int64_t T = 0, B = 0;
  bool batch_first = false;      // rows (B, T, ·), else (T, B, ·)
  const int64_t* len = nullptr;  // (B) steps each row takes, each in [0, T]
  int64_t steps = 0;             // the longest of len

  // Row of time t of batch row b among the T*B rows.
  int64_t row(int64_t t, int64_t b) const { return batch_first ? b * T + t : t * B + b; }
  // Row that batch row b reads and writes at loop step s, or -1 when s is past its length:
  // time s forward, L-1-s reversed (each sequence is reversed within its own length).
  int64_t step_row(int64_t s, int64_t b, bool reversed) const {
    const int64_t L = len[b];
    if (s >= L) return -1;
    return row(reversed ? L - 1 - s : s, b);
  }
};

// One layer's input and output. A row of y past its sequence's length stays zero.
struct LayerIO {
  const float* x = nullptr;   // (T*B, x_width) rows per Sequence::row
  int64_t x_width = 0;
  float* y = nullptr;         // (T*B, D*Hout)
  const float* h0 = nullptr;  // (L*D, B, h_width) or null for zeros
  const float* c0 = nullptr;  // (L*D, B, c_width) or null for zeros
  float* h_n = nullptr;       // (L*D, B, h_width)
  float* c_n = nullptr;       // (L*D, B, c_width) or null
  int64_t h_width = 0, c_width = 0;
};

// The initial state of state row `srow`: the leading n columns of its B rows of `src`
// ((L*D, B, width), h0 or c0) into dst (B, n) with leading dimension ld, or zeros without src.
inline void state_in(const float* src, int64_t width, int64_t srow, int64_t B, int64_t n,
                     float* dst, int64_t ld) {
  for (int64_t b = 0; b < B; ++b) {
    float* d = dst + b * ld;
    if (src) {
      std::memcpy(d, src + (srow * B + b) * width, sizeof(float) * static_cast<size_t>(n));
    } else {
      std::fill(d, d + n, 0.0f);
    }
  }
}

// The final state: src (B, n), leading dimension ld, into the leading n columns of state row
// `srow` of dst ((L*D, B, width), h_n or c_n).
inline void state_out(const float* src, int64_t ld, int64_t srow, int64_t B, int64_t n,
                      float* dst, int64_t width) {
  for (int64_t b = 0; b < B; ++b) {
    std::memcpy(dst + (srow * B + b) * width, src + b * ld, sizeof(float) * static_cast<size_t>(n));
  }
}

}  // namespace recur
