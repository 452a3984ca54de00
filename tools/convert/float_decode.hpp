// Little-endian float16, bfloat16, float32 and float64 elements widened to fp32: the one
// decoder behind the PyTorch, safetensors and ONNX importers.
#pragma once

#include <cstdint>

namespace recur::convert {

float half_to_float(uint16_t h) noexcept;
float bf16_to_float(uint16_t h) noexcept;
// One element of `bytes` (2, 4 or 8) bytes at p; a 2-byte element is bfloat16 when `bf16`.
float decode_float(const uint8_t* p, int bytes, bool bf16) noexcept;

}  // namespace recur::convert
