// The fixed parts of a .recur file (formats/SPEC.md §2): header fields, alignment, limits,
// and the names of tensors by layer and role. Shared by the reader and the writer.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

namespace recur::layout {

inline constexpr char kMagic[8] = {'R', 'E', 'C', 'U', 'R', '\r', '\n', '\x1a'};
inline constexpr uint64_t kHeaderSize = 64;
inline constexpr uint64_t kAlignment = 64;       // tensor data and the data section
inline constexpr int kMaxJsonDepth = 32;
inline constexpr size_t kMaxNameLength = 256;
inline constexpr size_t kMaxTensors = 1u << 16;
inline constexpr size_t kMaxLayers = 1024;

// Byte offsets of the header fields; all integers little-endian.
struct HeaderField {
  static constexpr size_t magic = 0;           // 8 bytes
  static constexpr size_t version_major = 8;   // u16
  static constexpr size_t version_minor = 10;  // u16
  static constexpr size_t header_size = 12;    // u32
  static constexpr size_t metadata_size = 16;  // u64, metadata starts at header_size
  static constexpr size_t data_offset = 24;    // u64
  static constexpr size_t data_size = 32;      // u64
  static constexpr size_t file_size = 40;      // u64
  static constexpr size_t checksum = 48;       // u64, xxh64 (seed 0) of bytes [header_size, file_size)
  static constexpr size_t reserved = 56;       // u64, must be 0
};

struct Header {
  uint16_t version_major = 0;
  uint16_t version_minor = 0;
  uint32_t header_size = 0;
  uint64_t metadata_size = 0;
  uint64_t data_offset = 0;
  uint64_t data_size = 0;
  uint64_t file_size = 0;
  uint64_t checksum = 0;
  uint64_t reserved = 0;
};

// Little-endian loads/stores independent of the host's byte order.
template <class T>
inline T load_le(const uint8_t* p) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(static_cast<T>(p[i]) << (8 * i));
  return v;
}
template <class T>
inline void store_le(uint8_t* p, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

inline Header decode_header(const uint8_t* p) {
  Header h;
  h.version_major = load_le<uint16_t>(p + HeaderField::version_major);
  h.version_minor = load_le<uint16_t>(p + HeaderField::version_minor);
  h.header_size = load_le<uint32_t>(p + HeaderField::header_size);
  h.metadata_size = load_le<uint64_t>(p + HeaderField::metadata_size);
  h.data_offset = load_le<uint64_t>(p + HeaderField::data_offset);
  h.data_size = load_le<uint64_t>(p + HeaderField::data_size);
  h.file_size = load_le<uint64_t>(p + HeaderField::file_size);
  h.checksum = load_le<uint64_t>(p + HeaderField::checksum);
  h.reserved = load_le<uint64_t>(p + HeaderField::reserved);
  return h;
}

inline void encode_header(const Header& h, uint8_t* p) {
  std::memcpy(p + HeaderField::magic, kMagic, sizeof kMagic);
  store_le<uint16_t>(p + HeaderField::version_major, h.version_major);
  store_le<uint16_t>(p + HeaderField::version_minor, h.version_minor);
  store_le<uint32_t>(p + HeaderField::header_size, h.header_size);
  store_le<uint64_t>(p + HeaderField::metadata_size, h.metadata_size);
  store_le<uint64_t>(p + HeaderField::data_offset, h.data_offset);
  store_le<uint64_t>(p + HeaderField::data_size, h.data_size);
  store_le<uint64_t>(p + HeaderField::file_size, h.file_size);
  store_le<uint64_t>(p + HeaderField::checksum, h.checksum);
  store_le<uint64_t>(p + HeaderField::reserved, h.reserved);
}

// "layers.2.reverse.W", "head.b"; `reverse` is true for the backward direction of a
// bidirectional layer and for the single direction of a reverse layer.
inline std::string layer_tensor_name(size_t layer, bool reverse, const char* role) {
  return "layers." + std::to_string(layer) + (reverse ? ".reverse." : ".forward.") + role;
}
inline std::string head_tensor_name(const char* role) { return std::string("head.") + role; }

}  // namespace recur::layout
