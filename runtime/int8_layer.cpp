// int8 layers (LoadOptions::precision = int8): weights quantized at load; at run time each
// product's input rows are quantized once, the int32 sums split over column blocks between
// threads, dequantized with the bias, then the fp32 cells of the reference path. The sums and
// the dequantization are exact functions of one row and one column (kernels/int8.hpp), so any
// thread count, batch split or ISA gives the same bits, and step equals run.
#include "runtime/int8_layer.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "runtime/int8_cells.hpp"
#include "runtime/model_impl.hpp"
#include "runtime/parallel.hpp"
#include "runtime/generic_layer.hpp"
#include "runtime/isa.hpp"

namespace recur {

namespace {

constexpr int64_t kUnitGrain = 16;  // hidden units per cell chunk (as generic_layer.cpp)
constexpr int64_t kCellWork = 32;   // multiply-add equivalents of one unit's cell update
constexpr int64_t kRowChunk = 64;   // input-projection rows per kernel call

size_t sz(int64_t n) { return static_cast<size_t>(n); }

Int8Matrix quantize_matrix(int64_t N, int64_t K, const float* W) {
  Int8Matrix m;
  m.N = N;
  m.K = K;
  m.Kp = kernels::int8_padded_k(K);
  m.packed.resize(sz(kernels::int8_padded_n(N) * m.Kp));
  m.scale.resize(sz(N));
  m.comp.resize(sz(kernels::int8_padded_n(N)));
  kernels::quantize_pack_s8(N, K, W, m.packed.data(), m.scale.data(), m.comp.data());
  return m;
}

// out (M, w.N), ld ldo = dequant(u · wᵀ) + bias for quantized rows u (M, w.Kp) with scales sx;
// threads split the column blocks.
void product(const kernels::Int8Kernels& k, const Int8Matrix& w, int64_t M, const uint8_t* u,
             const float* sx, const float* bias, float* out, int64_t ldo, int threads) {
  const int64_t blocks = kernels::int8_padded_n(w.N) / kernels::kInt8Block;
  parallel_for(threads, blocks, 1, M * w.Kp * kernels::kInt8Block / 4, [&](int64_t j0, int64_t j1) {
    const int64_t n0 = j0 * kernels::kInt8Block;
    const int64_t n = std::min(w.N, j1 * kernels::kInt8Block) - n0;
    k.gemm_dequant(M, n, w.Kp, u, w.Kp, w.packed.data() + n0 * w.Kp, w.comp.data() + n0, sx,
                   w.scale.data() + n0, bias ? bias + n0 : nullptr, out + n0, ldo);
  });
}

// Quantizes B rows of x (K wide, ld ldx) into the scratch, then out = product with w.
void quantized_product(const kernels::Int8Kernels& k, const Int8Matrix& w, int64_t B,
                       const float* x, int64_t ldx, const float* bias, float* out, int64_t ldo,
                       Int8Scratch& s, int threads) {
  kernels::quantize_rows_u8(B, w.K, x, ldx, s.u.data(), w.Kp, s.sx.data());
  product(k, w, B, s.u.data(), s.sx.data(), bias, out, ldo, threads);
}

bool no_vnni(std::string* bad_value) {
  const char* v = std::getenv("RECUR_NO_VNNI");
  if (!v || !*v || std::strcmp(v, "0") == 0) return false;
  if (std::strcmp(v, "1") != 0 && bad_value) *bad_value = v;
  return true;
}

}  // namespace

const char* precision_name(Precision precision) noexcept {
  switch (precision) {
    case Precision::file: return "file";
    case Precision::f32: return "f32";
    case Precision::bf16: return "bf16";
    case Precision::int8: return "int8";
  }
  return "?";
}

bool parse_precision(const std::string& name, Precision& out) noexcept {
  for (Precision p : {Precision::file, Precision::f32, Precision::bf16, Precision::int8}) {
    if (name == precision_name(p)) {
      out = p;
      return true;
    }
  }
  return false;
}

bool int8_requested(const LoadOptions& options) { return options.precision == Precision::int8; }

Status check_precision(const LoadOptions& options) {
  if (options.precision == Precision::bf16) {
    return {Errc::unsupported, "precision bf16 (bf16 products) is not implemented; use int8, f32, "
                               "or recurrent_weights = bf16 (bf16r: bf16 storage of R, fp32 products)"};
  }
  if (options.precision == Precision::int8 && options.recurrent_weights == WeightFormat::bf16) {
    return {Errc::invalid_argument, "precision int8 and recurrent_weights = bf16 exclude each other "
                                    "(int8 quantizes R from its fp32 values)"};
  }
  std::string bad;
  if (int8_requested(options) && no_vnni(&bad) && !bad.empty()) {
    return {Errc::invalid_argument, "RECUR_NO_VNNI='" + bad + "' is not one of 0, 1"};
  }
  return {};
}

const kernels::Int8Kernels& int8_kernels_for(Isa isa) {
  const bool vnni_allowed = !no_vnni(nullptr);
  const kernels::Int8Kernels* k = &kernels::int8_kernels_scalar();
  const char* why = "no SIMD";
  switch (isa) {
    case Isa::avx512:
    case Isa::best:
      if (vnni_allowed && __builtin_cpu_supports("avx512vnni")) {
        k = &kernels::int8_kernels_avx512_vnni(), why = "the CPU has AVX512-VNNI";
      } else {
        k = &kernels::int8_kernels_avx512();
        why = vnni_allowed ? "the CPU lacks AVX512-VNNI" : "RECUR_NO_VNNI=1";
      }
      break;
    case Isa::avx2:
      if (vnni_allowed && cpu_has_avx_vnni()) {
        k = &kernels::int8_kernels_avx2_vnni(), why = "the CPU has AVX-VNNI";
      } else {
        k = &kernels::int8_kernels_avx2();
        why = vnni_allowed ? "the CPU lacks AVX-VNNI" : "RECUR_NO_VNNI=1";
      }
      break;
    case Isa::scalar:
      break;
  }
  if (const char* v = std::getenv("RECUR_VERBOSE"); v && std::strcmp(v, "1") == 0) {
    std::fprintf(stderr, "recur: int8 products: gemm_u8s8s32_%s (%s)\n", k->name, why);
  }
  return *k;
}

void Int8Scratch::size_for(const Model::Impl& m, int64_t batch) {
  const bool any = std::any_of(m.layers.begin(), m.layers.end(), [](const PackedLayer& l) { return l.int8; });
  if (!any) return;
  const int64_t max_k = kernels::int8_padded_k(std::max({m.input_size, m.max_width, m.max_hidden}));
  u.assign(sz(batch * max_k), 0);
  sx.assign(sz(batch), 0.0f);
}

Int8Direction quantize_direction(const PackedLayer& layer, const kernels::Int8Kernels& k,
                                 const float* W, const float* R, const float* Wp) {
  Int8Direction q;
  q.k = &k;
  const int64_t gw = layer.gate_width(), H = layer.H;
  q.W = quantize_matrix(gw, layer.I, W);
  if (layer.cell == CellType::gru && !layer.linear_before_reset) {
    q.R = quantize_matrix(2 * H, layer.Hout, R);
    q.Rn = quantize_matrix(H, layer.Hout, R + 2 * H * layer.Hout);
  } else {
    q.R = quantize_matrix(gw, layer.Hout, R);
  }
  if (Wp) q.Wp = quantize_matrix(layer.Hout, H, Wp);
  return q;
}

void int8_input_projection(const PackedLayer& layer, int d, int64_t M, const float* x,
                           int64_t ld_x, float* gx, int threads) {
  const PackedDirection& pd = layer.dir[sz(d)];
  const Int8Direction& q = *pd.int8;
  const Int8Matrix& w = q.W;
  const float* Wb = pd.generic().Wb.data();
  // Rows in chunks of kRowChunk, each task quantizing its own rows: into a buffer grown once
  // per thread, then reused (a step's B rows need no more than the first call did).
  parallel_for(threads, M, kRowChunk, w.N * w.Kp / 4, [&](int64_t m0, int64_t m1) {
    thread_local std::vector<uint8_t> u;
    thread_local std::vector<float> sx;
    for (int64_t r = m0; r < m1; r += kRowChunk) {
      const int64_t rows = std::min(kRowChunk, m1 - r);
      if (u.size() < sz(rows * w.Kp)) u.resize(sz(kRowChunk * w.Kp));
      if (sx.size() < sz(kRowChunk)) sx.resize(sz(kRowChunk));
      kernels::quantize_rows_u8(rows, w.K, x + r * ld_x, ld_x, u.data(), w.Kp, sx.data());
      q.k->gemm_dequant(rows, w.N, w.Kp, u.data(), w.Kp, w.packed.data(), w.comp.data(), sx.data(),
                        w.scale.data(), Wb, gx + r * w.N, w.N);
    }
  });
}

void int8_advance(const Model::Impl& model, const PackedLayer& layer, int d, const float* h,
                  int64_t ldh, float* c, int64_t ldc, StepScratch& s, int threads) {
  const kernels::KernelTable& k = *model.k;
  const PackedDirection& pd = layer.dir[sz(d)];
  const GenericWeights& w = pd.generic();  // biases, peepholes
  const Int8Direction& q = *pd.int8;
  const int64_t B = s.batch, H = layer.H, Hout = layer.Hout, gw = layer.gate_width();
  float* rec = s.rec.data();        // (B, gw) R h + Rb
  float* h_next = s.h_next.data();  // (B, Hout)
  const float* const* gx = s.gx_rows.data();
  const uint8_t* active = s.active.data();
  const bool vector = k.panels && vector_cells_apply(layer, pd);  // else the reference cells
  // Runs cell(b, j0, n) over unit chunks of the active rows.
  const auto cells = [&](auto&& cell) {
    parallel_for(threads, H, kUnitGrain, B * kCellWork, [&](int64_t j0, int64_t j1) {
      for (int64_t b = 0; b < B; ++b) {
        if (active[b]) cell(b, j0, j1 - j0);
      }
    });
  };

  switch (layer.cell) {
    case CellType::rnn: {
      quantized_product(*q.k, q.R, B, h, ldh, w.Rb.data(), rec, gw, s.int8, threads);
      const kernels::RnnCellParams p{pd.f, layer.clip};
      cells([&](int64_t b, int64_t j0, int64_t n) {
        if (vector) return rnn_cells(*k.panels, n, gx[b] + j0, rec + b * gw + j0, h_next + b * Hout + j0);
        k.rnn_cell(p, n, gx[b] + j0, rec + b * gw + j0, h_next + b * Hout + j0);
      });
      break;
    }
    case CellType::lstm: {
      quantized_product(*q.k, q.R, B, h, ldh, w.Rb.data(), rec, gw, s.int8, threads);
      const bool project = !q.Wp.empty();
      float* hc = project ? s.hc.data() : h_next;  // (B, H)
      kernels::LstmCellParams p;
      p.f = pd.f;
      p.g = pd.g;
      p.h = pd.h;
      p.clip = layer.clip;
      p.input_forget = layer.input_forget;
      p.H = H;
      cells([&](int64_t b, int64_t j0, int64_t n) {
        if (vector) return lstm_cells(*k.panels, H, n, gx[b] + j0, rec + b * gw + j0, c + b * ldc + j0, hc + b * H + j0);
        kernels::LstmCellParams pj = p;
        pj.P = w.P.empty() ? nullptr : w.P.data() + j0;
        k.lstm_cell(pj, n, gx[b] + j0, rec + b * gw + j0, c + b * ldc + j0, hc + b * H + j0);
      });
      if (project) quantized_product(*q.k, q.Wp, B, hc, H, nullptr, h_next, Hout, s.int8, threads);
      break;
    }
    case CellType::gru: {
      kernels::GruCellParams p;
      p.f = pd.f;
      p.g = pd.g;
      p.clip = layer.clip;
      p.linear_before_reset = layer.linear_before_reset;
      p.H = H;
      // rec = h · R + Rb over the rows q.R holds (z, r, and n with linear_before_reset).
      quantized_product(*q.k, q.R, B, h, ldh, w.Rb.data(), rec, gw, s.int8, threads);
      if (!layer.linear_before_reset) {
        // rec_n = (r ⊙ h) · R_n + Rb_n.
        float* rh = s.rh.data();  // (B, H)
        cells([&](int64_t b, int64_t j0, int64_t n) {
          if (vector) return gru_reset_cells(*k.panels, H, n, gx[b] + j0, rec + b * gw + j0, h + b * ldh + j0, rh + b * H + j0);
          k.gru_reset(p, n, gx[b] + j0, rec + b * gw + j0, h + b * ldh + j0, rh + b * H + j0);
        });
        quantized_product(*q.k, q.Rn, B, rh, H, w.Rb.data() + 2 * H, rec + 2 * H, gw, s.int8, threads);
      }
      cells([&](int64_t b, int64_t j0, int64_t n) {
        if (vector) {
          return gru_cells(*k.panels, H, n, layer.linear_before_reset, gx[b] + j0, rec + b * gw + j0,
                           h + b * ldh + j0, h_next + b * Hout + j0);
        }
        k.gru_cell(p, n, gx[b] + j0, rec + b * gw + j0, h + b * ldh + j0, h_next + b * Hout + j0);
      });
      break;
    }
  }

  // Rows that do not take this step keep their state.
  for (int64_t b = 0; b < B; ++b) {
    if (!active[b]) std::memcpy(h_next + b * Hout, h + b * ldh, sizeof(float) * sz(Hout));
  }
}

}  // namespace recur
