// The ONNX RNN activation functions recur runs: the one list of their names, the ONNX
// alpha/beta defaults, and which of alpha/beta each reads. ModelSpec stores the name
// (Activation::name); code that computes switches on ActivationFn.
#pragma once

#include <cstdint>
#include <string>

namespace recur {

enum class ActivationFn : uint8_t {
  sigmoid, tanh, relu, hard_sigmoid, leaky_relu, thresholded_relu, scaled_tanh, affine, elu, softsign, softplus,
};

struct ActivationInfo {
  ActivationFn fn;
  const char* name;  // ONNX spelling: Sigmoid, Tanh, Relu, HardSigmoid, ...
  float alpha, beta;  // the ONNX operators' defaults
  bool uses_alpha, uses_beta;
};

// By exact ONNX name; nullptr when unknown.
const ActivationInfo* find_activation(const std::string& name) noexcept;
// Ignoring ASCII case, as ONNX files spell them ("tanh", "LEAKYRELU").
const ActivationInfo* find_activation_nocase(const std::string& name) noexcept;

}  // namespace recur
