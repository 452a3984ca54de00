// The ONNX RNN activation table (formats/activations.hpp) and its two lookups.
#include "formats/activations.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace recur {
namespace {

// ONNX RNN activation functions with the alpha/beta defaults of the ONNX operators of the same
// name. onnxruntime differs where none are given: 0 for ThresholdedRelu, ScaledTanh and Affine
// (and for everything in RNN); converters resolve defaults explicitly and store them.
constexpr ActivationInfo kActivations[] = {
    {ActivationFn::sigmoid, "Sigmoid", 0.0f, 0.0f, false, false},
    {ActivationFn::tanh, "Tanh", 0.0f, 0.0f, false, false},
    {ActivationFn::relu, "Relu", 0.0f, 0.0f, false, false},
    {ActivationFn::hard_sigmoid, "HardSigmoid", 0.2f, 0.5f, true, true},
    {ActivationFn::leaky_relu, "LeakyRelu", 0.01f, 0.0f, true, false},
    {ActivationFn::thresholded_relu, "ThresholdedRelu", 1.0f, 0.0f, true, false},
    {ActivationFn::scaled_tanh, "ScaledTanh", 1.0f, 1.0f, true, true},
    {ActivationFn::affine, "Affine", 1.0f, 0.0f, true, true},
    {ActivationFn::elu, "Elu", 1.0f, 0.0f, true, false},
    {ActivationFn::softsign, "Softsign", 0.0f, 0.0f, false, false},
    {ActivationFn::softplus, "Softplus", 0.0f, 0.0f, false, false},
};

}  // namespace

const ActivationInfo* find_activation(const std::string& name) noexcept {
  for (const ActivationInfo& k : kActivations)
    if (name == k.name) return &k;
  return nullptr;
}

const ActivationInfo* find_activation_nocase(const std::string& name) noexcept {
  for (const ActivationInfo& k : kActivations)
    if (std::equal(name.begin(), name.end(), k.name, k.name + std::strlen(k.name),
                   [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) ==
                                               std::tolower(static_cast<unsigned char>(b)); }))
      return &k;
  return nullptr;
}

}  // namespace recur
