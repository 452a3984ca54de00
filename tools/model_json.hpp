// A .recur file described as JSON: format version, sizes, checksum, metadata, layers (with the
// head as a "dense" layer) and the tensor table. One home for what `recur inspect --json` prints
// and what the Python package's Model.info() returns.
#pragma once

#include <nlohmann/json.hpp>

#include "recur/format.hpp"

namespace recur::cli {

nlohmann::json model_file_json(const ModelFile& f);

}  // namespace recur::cli
