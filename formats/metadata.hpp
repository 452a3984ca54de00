// The JSON metadata of a .recur file (formats/SPEC.md §3): ModelSpec attributes <-> JSON, and
// the tensor table. Weights are not touched here; they are bound by name in the reader.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "recur/format.hpp"
#include "recur/spec.hpp"

namespace recur::metadata {

// Every tensor of a spec with its file name, in file order (layer by layer, forward before
// reverse, roles W R Wb Rb P Wp; then head W b). Absent optional tensors are skipped.
void for_each_tensor(const ModelSpec& spec,
                     const std::function<void(const std::string&, const Tensor&)>& fn);
// Which tensors a spec's layers need, by name, with where to put each; used to bind file
// tensors after the attributes are parsed.
void for_each_tensor_slot(ModelSpec& spec,
                          const std::function<void(const std::string&, Tensor&)>& fn);

std::string to_json(const ModelSpec& spec, const std::vector<TensorInfo>& tensors);

// Parses `text` into the spec's attributes (no weights) and the tensor table. Errors are
// bad_metadata (JSON or keys) or bad_tensor (a table entry).
Status parse(const std::string& text, ModelSpec& spec, std::vector<TensorInfo>& tensors);

}  // namespace recur::metadata
