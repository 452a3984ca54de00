// Fuzz target: the .npy reader on arbitrary bytes. Whatever parses must be self-consistent:
// its element count equals the product of its shape, and a float array re-encodes and parses
// back to the same values.
#include <cstddef>
#include <cstdint>

#include "formats/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  recur::Result<recur::npy::Array> a = recur::npy::parse(data, size, "fuzz.npy");
  if (!a.ok()) return 0;
  int64_t n = 1;
  for (int64_t d : a->shape) n *= d;  // the reader checked this product for overflow
  if (n != a->numel()) __builtin_trap();
  if (a->integer) return 0;
  recur::Result<std::vector<uint8_t>> bytes = recur::npy::encode_f32(a->shape, a->f32.data(), a->f32.size());
  if (!bytes.ok()) __builtin_trap();
  recur::Result<recur::npy::Array> b = recur::npy::parse(bytes->data(), bytes->size(), "again.npy");
  if (!b.ok() || b->shape != a->shape || b->f32.size() != a->f32.size()) __builtin_trap();
  for (size_t i = 0; i < a->f32.size(); ++i) {
    const float x = a->f32[i], y = b->f32[i];
    if (!(x == y || (x != x && y != y))) __builtin_trap();  // equal, or both NaN
  }
  return 0;
}
