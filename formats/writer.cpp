// The .recur writer: lays out header, metadata and 64-byte aligned tensors (formats/SPEC.md)
// and writes them through a temporary file and a rename, so no partial file is ever seen.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <xxhash.h>

#include "formats/checked.hpp"
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
  h.version_major = kFormatMajor;
  h.version_minor = kFormatMinor;
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

  std::string tmp = path + ".tmp.XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) return {Errc::io, path + ": cannot create a temporary file: " + std::strerror(errno)};
  auto fail = [&](const std::string& what) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return Status(Errc::io, path + ": " + what + ": " + std::strerror(err));
  };
  const uint8_t* p = bytes->data();
  size_t left = bytes->size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("write failed");
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fchmod(fd, 0644) != 0) return fail("chmod failed");
  if (::fsync(fd) != 0) return fail("fsync failed");
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return {Errc::io, path + ": close failed: " + std::strerror(err)};
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return {Errc::io, path + ": rename failed: " + std::strerror(err)};
  }
  return {};
}

}  // namespace recur
