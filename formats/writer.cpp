// The .recur writer: lays out header, metadata and 64-byte aligned tensors (formats/SPEC.md)
// and writes them through a temporary file and a rename, so no partial file is ever seen.
#include <cstring>

#include <xxhash.h>

#include "formats/atomic_file.hpp"
#include "formats/layout.hpp"
#include "formats/metadata.hpp"
#include "recur/format.hpp"

namespace recur {
namespace {

uint64_t align64(uint64_t v) { return (v + layout::kAlignment - 1) & ~(layout::kAlignment - 1); }

}  // namespace

Result<std::vector<uint8_t>> serialize_model(const ModelSpec& spec) {
  RECUR_TRY(validate(spec, /*check_finite=*/true));

  std::vector<TensorInfo> table;
  std::vector<const Tensor*> order;
  uint64_t data_size = 0;
  metadata::for_each_tensor(spec, [&](const std::string& name, const Tensor& t) {
    TensorInfo info{name, "f32", t.shape, data_size, static_cast<uint64_t>(t.data.size()) * 4};
    data_size = align64(data_size + info.size);
    table.push_back(std::move(info));
    order.push_back(&t);
  });
  const std::string text = metadata::to_json(spec, table);

  layout::Header h;
  h.version_major = spec.needs_format_v2() ? kFormatMajor : 1;
  h.version_minor = spec.needs_format_v2() ? kFormatMinor : kFormatMinorV1;
  h.header_size = static_cast<uint32_t>(layout::kHeaderSize);
  h.metadata_size = text.size();
  h.data_offset = align64(layout::kHeaderSize + text.size());
  h.data_size = data_size;
  h.file_size = h.data_offset + data_size;

  std::vector<uint8_t> bytes(static_cast<size_t>(h.file_size), 0);
  std::memcpy(bytes.data() + layout::kHeaderSize, text.data(), text.size());
  for (size_t i = 0; i < table.size(); ++i) {
    std::memcpy(bytes.data() + h.data_offset + table[i].offset, order[i]->data.data(),
                static_cast<size_t>(table[i].size));
  }
  h.checksum = XXH64(bytes.data() + layout::kHeaderSize, bytes.size() - layout::kHeaderSize, 0);
  layout::encode_header(h, bytes.data());
  return bytes;
}

Status write_model(const ModelSpec& spec, const std::string& path) {
  Result<std::vector<uint8_t>> bytes = serialize_model(spec);
  if (!bytes.ok()) return Status(bytes.status()).with_context(path);
  return write_file_atomic(path, bytes->data(), bytes->size());
}

}  // namespace recur
