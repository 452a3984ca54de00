// int8 dynamic quantization kernels (kernels/int8.hpp) against a plain reference of the same
// scheme written here from its definition: the quantized inputs, the weight scales and the int32
// sums must be the same bits on every ISA kernel this CPU can run, at shapes with primes and
// tails, and the dequantized outputs (separate or fused into the kernel) the same floats.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/int8.hpp"
#include "runtime/isa.hpp"

namespace recur::kernels {
namespace {

struct Int8Case {
  const char* name;
  bool available;
  const Int8Kernels* k;
};

std::vector<Int8Case> int8_isas() {
  const bool avx512 = cpu_supports(Isa::avx512);
  const bool avx2 = cpu_supports(Isa::avx2);
  return {
      {"avx512_vnni", avx512 && __builtin_cpu_supports("avx512vnni"), &int8_kernels_avx512_vnni()},
      {"avx512", avx512, &int8_kernels_avx512()},
      {"avx2_vnni", avx2 && cpu_has_avx_vnni(), &int8_kernels_avx2_vnni()},
      {"avx2", avx2, &int8_kernels_avx2()},
      {"scalar", true, &int8_kernels_scalar()},
  };
}

// ---- The reference: the scheme of kernels/int8.hpp, in the plainest loops ------------------
struct RefRow {
  std::vector<int> q;  // (K) in [-127, 127]
  float scale = 0.0f;  // max |x| / 127, 0 for a zero row
};

RefRow ref_quantize(const float* x, int64_t K) {
  float mx = 0.0f;
  for (int64_t k = 0; k < K; ++k) mx = std::fabs(x[k]) > mx ? std::fabs(x[k]) : mx;
  RefRow r;
  r.q.assign(static_cast<size_t>(K), 0);
  if (!(mx >= std::numeric_limits<float>::min())) return r;
  const float inv = 127.0f / mx;
  r.scale = mx / 127.0f;
  for (int64_t k = 0; k < K; ++k) {
    const float prod = x[k] * inv;
    long v = std::lrint(prod);  // nearest, ties to even (the default rounding mode)
    v = v > 127 ? 127 : v < -127 ? -127 : v;
    r.q[static_cast<size_t>(k)] = static_cast<int>(v);
  }
  return r;
}

std::vector<float> random_vec(std::mt19937& rng, int64_t n, float scale) {
  std::uniform_real_distribution<float> d(-scale, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = d(rng);
  return v;
}

uint32_t bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}

// Everything the kernels compute for y = x · Wᵀ + bias, checked against the reference.
void check_product(const Int8Case& isa, int64_t M, int64_t N, int64_t K, const std::vector<float>& x,
                   const std::vector<float>& W, const std::vector<float>& bias) {
  CAPTURE(std::string(isa.name));
  CAPTURE(M);
  CAPTURE(N);
  CAPTURE(K);
  const int64_t Kp = int8_padded_k(K), Np = int8_padded_n(N);
  const int64_t ldu = Kp + 4;  // a row stride wider than the row
  std::vector<int8_t> packed(static_cast<size_t>(Np * Kp));
  std::vector<float> sw(static_cast<size_t>(N));
  std::vector<int32_t> comp(static_cast<size_t>(Np));
  quantize_pack_s8(N, K, W.data(), packed.data(), sw.data(), comp.data());
  std::vector<uint8_t> u(static_cast<size_t>(M * ldu), 0xAB);
  std::vector<float> sx(static_cast<size_t>(M));
  quantize_rows_u8(M, K, x.data(), K, u.data(), ldu, sx.data());
  const int64_t ldc = N + 3;
  std::vector<int32_t> C(static_cast<size_t>(M * ldc), -7);
  isa.k->gemm(M, N, Kp, u.data(), ldu, packed.data(), comp.data(), C.data(), ldc);
  std::vector<float> y(static_cast<size_t>(M * N));
  dequantize_rows(M, N, C.data(), ldc, sx.data(), sw.data(), bias.data(), y.data(), N);
  // The fused dequantizing kernel gives the same bits, with and without a bias, at a wider ld.
  const int64_t ldy = N + 5;
  std::vector<float> yf(static_cast<size_t>(M * ldy), -3.0f), yn(static_cast<size_t>(M * ldy), -3.0f);
  isa.k->gemm_dequant(M, N, Kp, u.data(), ldu, packed.data(), comp.data(), sx.data(), sw.data(),
                      bias.data(), yf.data(), ldy);
  isa.k->gemm_dequant(M, N, Kp, u.data(), ldu, packed.data(), comp.data(), sx.data(), sw.data(),
                      nullptr, yn.data(), ldy);
  std::vector<float> y_nobias(static_cast<size_t>(M * N));
  dequantize_rows(M, N, C.data(), ldc, sx.data(), sw.data(), nullptr, y_nobias.data(), N);
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t n = 0; n < ldy; ++n) {
      const float fused = yf[size_t(m * ldy + n)], plain = yn[size_t(m * ldy + n)];
      if (n >= N) {
        REQUIRE(fused == -3.0f);  // nothing written past N
        REQUIRE(plain == -3.0f);
        continue;
      }
      REQUIRE(bits(fused) == bits(y[size_t(m * N + n)]));
      REQUIRE(bits(plain) == bits(y_nobias[size_t(m * N + n)]));
    }
  }

  std::vector<RefRow> wq;
  for (int64_t n = 0; n < N; ++n) {
    wq.push_back(ref_quantize(W.data() + n * K, K));
    REQUIRE(bits(sw[size_t(n)]) == bits(wq.back().scale));
  }
  int bad = 0;
  for (int64_t m = 0; m < M && bad < 5; ++m) {
    const RefRow xq = ref_quantize(x.data() + m * K, K);
    REQUIRE(bits(sx[size_t(m)]) == bits(xq.scale));
    for (int64_t k = 0; k < Kp; ++k) {
      const int want = 128 + (k < K ? xq.q[size_t(k)] : 0);
      if (u[size_t(m * ldu + k)] != want && bad++ < 5) {
        FAIL_CHECK("u[" << m << "][" << k << "] = " << int(u[size_t(m * ldu + k)]) << ", want " << want);
      }
    }
    for (int64_t n = 0; n < N; ++n) {
      int64_t sum = 0;
      for (int64_t k = 0; k < K; ++k) sum += int64_t(xq.q[size_t(k)]) * wq[size_t(n)].q[size_t(k)];
      const int32_t got = C[size_t(m * ldc + n)];
      if (got != sum && bad++ < 5) FAIL_CHECK("C[" << m << "][" << n << "] = " << got << ", want " << sum);
      const float want_y = static_cast<float>(sum) * (xq.scale * wq[size_t(n)].scale) + bias[size_t(n)];
      if (bits(y[size_t(m * N + n)]) != bits(want_y) && bad++ < 5) {
        FAIL_CHECK("y[" << m << "][" << n << "] = " << y[size_t(m * N + n)] << ", want " << want_y);
      }
    }
    for (int64_t n = N; n < ldc; ++n) {  // nothing written past N
      if (C[size_t(m * ldc + n)] != -7 && bad++ < 5) FAIL_CHECK("C[" << m << "][" << n << "] written");
    }
  }
  CHECK(bad == 0);
}

}  // namespace

TEST_CASE("int8: quantized inputs, weight scales and int32 sums equal the reference on every ISA") {
  std::mt19937 rng(22);
  for (const Int8Case& isa : int8_isas()) {
    if (!isa.available) {
      MESSAGE("skipped: this CPU lacks " << isa.name);
      continue;
    }
    for (int64_t K : {1, 3, 17, 34, 64, 129}) {
      for (int64_t N : {1, 17, 34, 68, 136}) {
        for (int64_t M : {1, 2, 3, 7, 9}) {
          const std::vector<float> x = random_vec(rng, M * K, 2.0f);
          const std::vector<float> W = random_vec(rng, N * K, 0.3f);
          const std::vector<float> bias = random_vec(rng, N, 0.5f);
          check_product(isa, M, N, K, x, W, bias);
        }
      }
    }
  }
}

TEST_CASE("int8: ties round to even, zero rows, tiny rows") {
  // max |x| = 127 makes the multiplier 1: x itself is rounded.
  const std::vector<float> row = {127.0f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 126.5f};
  std::vector<uint8_t> u(8);
  float s = -1.0f;
  quantize_rows_u8(1, 8, row.data(), 8, u.data(), 8, &s);
  const std::vector<int> want = {127, 0, 2, 2, 0, -2, -2, 126};
  for (size_t k = 0; k < want.size(); ++k) CHECK(int(u[k]) - 128 == want[k]);
  CHECK(s == 1.0f);
  // A zero row and a row of subnormals (zero under DAZ or not): q = 0, scale 0.
  const std::vector<float> zero = {0.0f, -0.0f, 1e-40f, -1e-41f};
  std::vector<uint8_t> uz(4);
  quantize_rows_u8(1, 4, zero.data(), 4, uz.data(), 4, &s);
  for (uint8_t b : uz) CHECK(b == 128);
  CHECK(s == 0.0f);
}

TEST_CASE("int8: the largest K keeps exact int32 sums on every ISA") {
  // All q = ±127 and w = 127: |C| = 127² K, and the VNNI sum Σ u·w reaches 255 · 127 · K.
  const int64_t K = kInt8MaxK, N = 17;
  for (const Int8Case& isa : int8_isas()) {
    if (!isa.available) continue;
    for (float sign : {1.0f, -1.0f}) {
      const std::vector<float> x(static_cast<size_t>(2 * K), sign);
      const std::vector<float> W(static_cast<size_t>(N * K), 0.25f);
      const std::vector<float> bias(static_cast<size_t>(N), 0.0f);
      check_product(isa, 2, N, K, x, W, bias);
    }
  }
}

}  // namespace recur::kernels
