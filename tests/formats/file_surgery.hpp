// Helpers for malformed-file tests: take a valid .recur image apart, change one thing, and
// (optionally) re-seal it with a correct checksum so the reader reaches the check under test.
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <xxhash.h>

#include "formats/layout.hpp"

namespace recur::test {

using Bytes = std::vector<uint8_t>;

inline layout::Header header_of(const Bytes& b) { return layout::decode_header(b.data()); }

inline std::string metadata_of(const Bytes& b) {
  const layout::Header h = header_of(b);
  return std::string(reinterpret_cast<const char*>(b.data() + h.header_size), h.metadata_size);
}

inline Bytes data_of(const Bytes& b) {
  const layout::Header h = header_of(b);
  return Bytes(b.begin() + static_cast<long>(h.data_offset), b.end());
}

// Recomputes the checksum over [header_size, end).
inline void reseal(Bytes& b) {
  layout::Header h = header_of(b);
  h.checksum = XXH64(b.data() + h.header_size, b.size() - h.header_size, 0);
  layout::encode_header(h, b.data());
}

// A new image with the given metadata text and data section; sizes and checksum consistent.
inline Bytes assemble(const std::string& metadata, const Bytes& data) {
  layout::Header h;
  h.version_major = 1;
  h.header_size = 64;
  h.metadata_size = metadata.size();
  h.data_offset = (64 + metadata.size() + 63) / 64 * 64;
  h.data_size = data.size();
  h.file_size = h.data_offset + data.size();
  Bytes b(h.file_size, 0);
  std::memcpy(b.data() + 64, metadata.data(), metadata.size());
  if (!data.empty()) std::memcpy(b.data() + h.data_offset, data.data(), data.size());
  layout::encode_header(h, b.data());
  reseal(b);
  return b;
}

// Re-assembles `b` after `edit` changed its metadata JSON.
template <class Edit>
Bytes edit_metadata(const Bytes& b, Edit edit) {
  nlohmann::json doc = nlohmann::json::parse(metadata_of(b));
  edit(doc);
  return assemble(doc.dump(), data_of(b));
}

// Patches a header field (outside the checksum).
template <class T>
Bytes patch_header(Bytes b, size_t field, T value) {
  if (b.size() < layout::kHeaderSize) throw std::logic_error("patch_header: image too short");
  layout::store_le<T>(b.data() + field, value);
  return b;
}

}  // namespace recur::test
