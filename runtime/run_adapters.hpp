// The parts of a model around its recurrent stack and head, applied by Model::run and the
// State: token ids looked up in the embedding table, the model's default initial state where
// the caller gives none, and y replaced by final states (ModelSpec, formats/SPEC.md §3.3-3.5).
#pragma once

#include <functional>

#include "runtime/model_impl.hpp"

namespace recur {

using CoreRun = std::function<Result<RunOutput>(const RunInput&)>;

// Runs `core` (the stack and head on float x) on `in` with the model's front and back parts.
Result<RunOutput> run_with_adapters(const Model::Impl& m, const RunInput& in, const CoreRun& core);

// Why step() cannot run this model (an embedding or a final-state output); "" when it can.
const char* step_unsupported_reason(const Model::Impl& m) noexcept;

// Writes the model's default initial state into a state shaped like h_n (S, B, h_width) and
// c_n (S, B, c_width); leaves them as they are when the model has none.
void apply_initial_state(const Model::Impl& m, int64_t batch, float* h, float* c) noexcept;

}  // namespace recur
