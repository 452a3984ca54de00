// Reading and writing .recur files (formats/SPEC.md). The reader validates every byte it is
// given before returning; the writer goes through a temporary file and a rename so a failed
// write never leaves a partial file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "recur/export.h"
#include "recur/spec.hpp"
#include "recur/status.hpp"

namespace recur {

// Writers give a file the lowest version that holds it (formats/SPEC.md §7): 1.1 (1.0 plus
// user metadata, which 1.0 readers ignore) unless ModelSpec::needs_format_v2(), then 2.0. This
// build reads majors 1 and 2.
inline constexpr uint16_t kFormatMajor = 2;
inline constexpr uint16_t kFormatMinor = 0;
inline constexpr uint16_t kFormatMinorV1 = 1;

struct RECUR_API TensorInfo {
  std::string name;
  std::string dtype;             // "f32"
  std::vector<int64_t> shape;
  uint64_t offset = 0;           // from the start of the data section
  uint64_t size = 0;             // bytes
};

struct RECUR_API FileInfo {
  uint16_t version_major = 0;
  uint16_t version_minor = 0;
  uint64_t file_size = 0;
  uint64_t metadata_size = 0;
  uint64_t data_offset = 0;
  uint64_t data_size = 0;
  uint64_t checksum = 0;
  std::vector<TensorInfo> tensors;  // in file order
};

struct RECUR_API ReadOptions {
  bool verify_checksum = true;
  bool check_finite = true;                      // reject NaN/Inf weights
  uint64_t max_metadata_size = 16ull << 20;      // 16 MiB
  // Data sections at least this large have their checks (checksum, finite test) run on a second
  // thread, beside the reading and packing. 0: always; UINT64_MAX: never (one thread only).
  uint64_t threaded_check_min_bytes = 4ull << 20;
};

struct RECUR_API ModelFile {
  ModelSpec spec;
  FileInfo info;
};

// Parse and validate a whole .recur image held in memory. `name` prefixes error messages.
RECUR_API Result<ModelFile> parse_model(const uint8_t* data, size_t size, const std::string& name,
                              const ReadOptions& options = {});
// Read `path` (pread, one pass; a file truncated meanwhile is `truncated`), parse and validate it.
RECUR_API Result<ModelFile> read_model(const std::string& path, const ReadOptions& options = {});

// Serialize a validated spec into a .recur image.
RECUR_API Result<std::vector<uint8_t>> serialize_model(const ModelSpec& spec);
// Serialize and write atomically (temporary file in the same directory, then rename).
RECUR_API Status write_model(const ModelSpec& spec, const std::string& path);

}  // namespace recur
