// Writing a whole file atomically: bytes go to a temporary file in the same directory, which
// is fsync'ed and then renamed over `path`, so readers never see a partial file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "recur/status.hpp"

namespace recur {

// io on any failure (the temporary file is removed); the message names `path`.
Status write_file_atomic(const std::string& path, const uint8_t* data, size_t size);

}  // namespace recur
