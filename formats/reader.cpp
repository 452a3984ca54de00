// The .recur reader: validates the header, the metadata, the tensor table and every byte of
// tensor data before a ModelSpec leaves it. Reads with pread rather than mmap so that a file
// truncated while we read it is an error (truncated), not a SIGBUS.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include <xxhash.h>

#include "formats/checked.hpp"
#include "formats/chunk_checker.hpp"
#include "formats/layout.hpp"
#include "formats/metadata.hpp"
#include "formats/tensor_sink.hpp"
#include "recur/format.hpp"

namespace recur {
namespace {

// Where the bytes come from: memory (fuzzing, tests) or a file descriptor.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual uint64_t size() const = 0;
  // Reads exactly n bytes at offset into dst, or fails with truncated/io.
  virtual Status read(uint64_t offset, void* dst, size_t n) const = 0;
};

class MemorySource final : public ByteSource {
 public:
  MemorySource(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint64_t size() const override { return size_; }
  Status read(uint64_t offset, void* dst, size_t n) const override {
    uint64_t end = 0;
    if (!checked::add(offset, n, end) || end > size_) {
      return {Errc::truncated, "read of " + std::to_string(n) + " bytes at " +
                                   std::to_string(offset) + " is past the end"};
    }
    if (n) std::memcpy(dst, data_ + offset, n);
    return {};
  }

 private:
  const uint8_t* data_;
  size_t size_;
};

class FileSource final : public ByteSource {
 public:
  FileSource(int fd, uint64_t size) : fd_(fd), size_(size) {}
  ~FileSource() override { ::close(fd_); }
  uint64_t size() const override { return size_; }
  Status read(uint64_t offset, void* dst, size_t n) const override {
    auto* out = static_cast<uint8_t*>(dst);
    while (n > 0) {
      const ssize_t got = ::pread(fd_, out, n, static_cast<off_t>(offset));
      if (got < 0) {
        if (errno == EINTR) continue;
        return {Errc::io, std::string("read failed: ") + std::strerror(errno)};
      }
      if (got == 0) {
        return {Errc::truncated, "the file ended at byte " + std::to_string(offset) +
                                     " while reading (was it truncated during the load?)"};
      }
      out += got;
      offset += static_cast<uint64_t>(got);
      n -= static_cast<size_t>(got);
    }
    return {};
  }

 private:
  int fd_;
  uint64_t size_;
};

struct HashState {
  XXH64_state_t* state = XXH64_createState();
  ~HashState() { XXH64_freeState(state); }
};

// xxh64 of [from, to) read in bounded chunks.
Status hash_range(const ByteSource& src, uint64_t from, uint64_t to, uint64_t& out) {
  HashState h;
  if (!h.state) return {Errc::out_of_memory, "cannot allocate a hash state"};
  XXH64_reset(h.state, 0);
  std::vector<uint8_t> chunk(std::min<uint64_t>(to - from, 1u << 20));
  for (uint64_t at = from; at < to;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(chunk.size(), to - at));
    RECUR_TRY(src.read(at, chunk.data(), n));
    XXH64_update(h.state, chunk.data(), n);
    at += n;
  }
  out = XXH64_digest(h.state);
  return {};
}

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

Status check_header(const layout::Header& h, uint64_t actual_size, const ReadOptions& options) {
  if (h.version_major < 1 || h.version_major > kFormatMajor) {
    return {Errc::unsupported_version,
            "format version " + std::to_string(h.version_major) + "." +
                std::to_string(h.version_minor) + " is not readable by this build (reads 1.x to " +
                std::to_string(kFormatMajor) + ".x); convert the model again with this recur"};
  }
  if (h.header_size < layout::kHeaderSize || h.header_size % 8 != 0 || h.header_size > 4096) {
    return {Errc::bad_header, "header size " + std::to_string(h.header_size) +
                                  " is not a multiple of 8 in [64, 4096]"};
  }
  if (h.reserved != 0) return {Errc::bad_header, "reserved header field is not zero"};
  if (h.file_size > actual_size) {
    return {Errc::truncated, "the header says the file has " + std::to_string(h.file_size) +
                                 " bytes but it has " + std::to_string(actual_size)};
  }
  if (h.file_size < actual_size) {
    return {Errc::bad_header, "the file has " + std::to_string(actual_size - h.file_size) +
                                  " bytes after the end the header gives (" +
                                  std::to_string(h.file_size) + ")"};
  }
  if (h.metadata_size == 0 || h.metadata_size > options.max_metadata_size) {
    return {Errc::bad_header, "metadata size " + std::to_string(h.metadata_size) +
                                  " is outside 1.." + std::to_string(options.max_metadata_size)};
  }
  uint64_t metadata_end = 0, expected_data = 0, data_end = 0;
  if (!checked::add(h.header_size, h.metadata_size, metadata_end) || metadata_end > h.file_size) {
    return {Errc::truncated, "metadata of " + std::to_string(h.metadata_size) +
                                 " bytes runs past the end of the file (" +
                                 std::to_string(h.file_size) + " bytes)"};
  }
  if (!checked::align_up(metadata_end, layout::kAlignment, expected_data) ||
      h.data_offset != expected_data) {
    return {Errc::bad_header, "data offset " + std::to_string(h.data_offset) + " should be " +
                                  std::to_string(expected_data) +
                                  " (end of metadata rounded up to 64)"};
  }
  if (!checked::add(h.data_offset, h.data_size, data_end) || data_end != h.file_size) {
    return {Errc::bad_header, "data section (offset " + std::to_string(h.data_offset) + ", size " +
                                  std::to_string(h.data_size) + ") does not end at the file size " +
                                  std::to_string(h.file_size)};
  }
  return {};
}

// Reads [from, to) and checks that every byte is zero (alignment padding).
Status read_padding(const ByteSource& src, uint64_t from, uint64_t to, XXH64_state_t* hash,
                    const std::string& what) {
  uint8_t buf[layout::kAlignment];
  while (from < to) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(sizeof buf, to - from));
    RECUR_TRY(src.read(from, buf, n));
    if (hash) XXH64_update(hash, buf, n);
    for (size_t i = 0; i < n; ++i) {
      if (buf[i] != 0) {
        return {Errc::bad_tensor, "padding byte " + std::to_string(from + i) + " " + what +
                                      " is not zero"};
      }
    }
    from += n;
  }
  return {};
}

// Reads one tensor's bytes in chunks of whole rows that stay in cache while each is handed to
// the checker (hash, finite test) and then either stored in t.data or handed to the sink.
constexpr uint64_t kChunkBytes = 256u << 10;

Status read_tensor(const ByteSource& src, uint64_t at, const TensorInfo& info, Tensor& t,
                   ChunkChecker& checker, TensorSink* sink) {
  const int64_t numel = static_cast<int64_t>(info.size / sizeof(float));
  int64_t row_len = 1;  // shapes are bounded and fill info.size (metadata.cpp)
  for (size_t i = 1; i < info.shape.size(); ++i) row_len *= info.shape[i];
  const int64_t rows_total = row_len ? numel / row_len : 0;
  const int64_t rows_per_chunk =
      std::max<int64_t>(1, static_cast<int64_t>(kChunkBytes / sizeof(float)) / std::max<int64_t>(row_len, 1));
  const bool to_sink = sink && sink->takes(t);
  if (!to_sink) t.data.resize(static_cast<size_t>(numel));
  for (int64_t r = 0; r < rows_total; r += rows_per_chunk) {
    const int64_t count = std::min(rows_per_chunk, rows_total - r);
    const int64_t first = r * row_len, n = count * row_len;
    const ChunkChecker::Buffer buf =
        to_sink ? checker.staging(static_cast<size_t>(n)) : ChunkChecker::Buffer{t.data.data() + first, -1};
    const size_t bytes = static_cast<size_t>(n) * sizeof(float);
    RECUR_TRY(src.read(at + static_cast<uint64_t>(first) * sizeof(float), buf.data, bytes));
    checker.floats(buf.data, n, &info.name, first, buf.slot);
    if (checker.failed()) return checker.finish();  // a non-finite value: no need to go on
    if (to_sink) sink->rows(t, r, count, buf.data);
  }
  return {};
}

Status parse_source(const ByteSource& src, const ReadOptions& options, ModelFile& out,
                    TensorSink* sink) {
  const uint64_t size = src.size();
  if (size == 0) return {Errc::truncated, "the file is empty"};
  if (size < layout::kHeaderSize) {
    return {Errc::truncated, "the file has " + std::to_string(size) +
                                 " bytes, fewer than the 64-byte header"};
  }
  uint8_t raw[layout::kHeaderSize];
  RECUR_TRY(src.read(0, raw, sizeof raw));
  if (std::memcmp(raw, layout::kMagic, sizeof layout::kMagic) != 0) {
    return {Errc::bad_magic, "not a .recur file (wrong magic bytes)"};
  }
  const layout::Header h = layout::decode_header(raw);
  RECUR_TRY(check_header(h, size, options));

  FileInfo& info = out.info;
  info.version_major = h.version_major;
  info.version_minor = h.version_minor;
  info.file_size = h.file_size;
  info.metadata_size = h.metadata_size;
  info.data_offset = h.data_offset;
  info.data_size = h.data_size;
  info.checksum = h.checksum;

  // Any later failure of a corrupted file is reported as the corruption it is.
  auto fail = [&](Status s) -> Status {
    uint64_t digest = 0;
    if (options.verify_checksum && hash_range(src, h.header_size, h.file_size, digest).ok() &&
        digest != h.checksum) {
      return {Errc::checksum_mismatch, "checksum " + hex64(digest) + " differs from the header's " +
                                           hex64(h.checksum) + " (the file is corrupted)"};
    }
    return s;
  };

  HashState hash;
  if (!hash.state) return {Errc::out_of_memory, "cannot allocate a hash state"};
  XXH64_reset(hash.state, 0);
  XXH64_state_t* hs = options.verify_checksum ? hash.state : nullptr;

  std::string text(static_cast<size_t>(h.metadata_size), '\0');
  RECUR_TRY(src.read(h.header_size, text.data(), text.size()));
  if (hs) XXH64_update(hs, text.data(), text.size());
  if (Status s = metadata::parse(text, out.spec, info.tensors); !s.ok()) return fail(s);
  if (h.version_major < 2 && out.spec.needs_format_v2()) {  // what a 1.x reader would misread
    return fail({Errc::bad_metadata, "an embedding, final-state output or initial state needs format "
                                     "version 2, but the file says " + std::to_string(h.version_major) + "." +
                                     std::to_string(h.version_minor)});
  }
  if (Status s = read_padding(src, h.header_size + h.metadata_size, h.data_offset, hs,
                              "after the metadata"); !s.ok()) {
    return fail(s);
  }

  // Bind table entries to the slots the layers need.
  std::map<std::string, size_t> by_name;
  for (size_t i = 0; i < info.tensors.size(); ++i) by_name[info.tensors[i].name] = i;
  std::vector<Tensor*> slot_of(info.tensors.size(), nullptr);
  Status bind;
  metadata::for_each_tensor_slot(out.spec, [&](const std::string& name, Tensor& slot) {
    if (!bind.ok()) return;
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      bind = {Errc::invalid_model, "the layers need tensor '" + name + "', which the file lacks"};
      return;
    }
    slot_of[it->second] = &slot;
  });
  if (!bind.ok()) return fail(bind);
  for (size_t i = 0; i < info.tensors.size(); ++i) {
    if (slot_of[i]) slot_of[i]->shape = info.tensors[i].shape;
  }
  if (sink) {
    // The sink plans its packing from the attributes and shapes before any data arrives.
    if (Status s = validate_shapes(out.spec); !s.ok()) return fail(s);
    RECUR_TRY(sink->begin(out.spec));
  }
  // From here on the checks of the data (hash, finite test) may run on a second thread. A
  // failure found here waits for them: a non-finite value in an earlier chunk comes first.
  const bool threaded = h.data_size >= options.threaded_check_min_bytes;
  ChunkChecker checker(hs, options.check_finite, threaded);
  const auto stop = [&](Status s, bool corrupt) -> Status {
    if (Status c = checker.finish(); !c.ok()) return fail(c);
    return corrupt ? fail(s) : s;
  };

  // Tensors are contiguous in table order, each starting at the previous end rounded up to 64.
  uint64_t expected_offset = 0;
  for (size_t i = 0; i < info.tensors.size(); ++i) {
    const TensorInfo& t = info.tensors[i];
    if (!slot_of[i]) return stop({Errc::bad_tensor, "tensor '" + t.name + "' is not used by any layer"}, true);
    if (t.offset != expected_offset) {
      return stop({Errc::bad_tensor,
                   "tensor '" + t.name + "' starts at data offset " + std::to_string(t.offset) +
                       " but should start at " + std::to_string(expected_offset) +
                       (t.offset < expected_offset ? " (it overlaps the previous tensor)" : " (hole)") +
                       "; tensors are contiguous and 64-byte aligned in table order"},
                  true);
    }
    uint64_t end = 0, file_end = 0;
    if (!checked::add(t.offset, t.size, end) || end > h.data_size) {
      checked::add(h.data_offset, end, file_end);
      return stop({Errc::bad_tensor, "tensor '" + t.name + "' ends at byte " +
                                         std::to_string(file_end) + " but the file has " +
                                         std::to_string(h.file_size) + " bytes"},
                  true);
    }
    if (Status s = read_tensor(src, h.data_offset + t.offset, t, *slot_of[i], checker, sink); !s.ok()) {
      return stop(s, s.code() != Errc::truncated && s.code() != Errc::io);
    }
    if (!checked::align_up(end, layout::kAlignment, expected_offset)) {
      return stop({Errc::bad_tensor, "tensor '" + t.name + "' end overflows"}, true);
    }
    const uint64_t pad_end = std::min(expected_offset, h.data_size);
    if (Status s = read_padding(src, h.data_offset + end, h.data_offset + pad_end, nullptr,
                                "after tensor '" + t.name + "'"); !s.ok()) {
      return stop(s, true);
    }
    if (pad_end > end) checker.zeros(pad_end - end);
  }
  if (Status c = checker.finish(); !c.ok()) return fail(c);
  if (expected_offset != h.data_size) {
    return fail({Errc::bad_header, "data section has " + std::to_string(h.data_size) +
                                       " bytes but its tensors fill " + std::to_string(expected_offset)});
  }
  if (hs) {
    const uint64_t digest = XXH64_digest(hs);
    if (digest != h.checksum) {
      return {Errc::checksum_mismatch, "checksum " + hex64(digest) + " differs from the header's " +
                                           hex64(h.checksum) + " (the file is corrupted)"};
    }
  }
  // Little-endian hosts only: f32 bytes were copied as they are.
  static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "recur assumes a little-endian host");
  // Values were checked chunk by chunk above; what is left is structure (and sizes, unless a
  // sink took tensors, whose sizes read_tensor has delivered row by row).
  return sink ? Status{} : validate(out.spec, /*check_finite=*/false);
}

}  // namespace

Result<ModelFile> parse_model(const uint8_t* data, size_t size, const std::string& name,
                              const ReadOptions& options) {
  if (!data && size) return Status(Errc::invalid_argument, name + ": null data");
  MemorySource src(data, size);
  ModelFile out;
  Status s = parse_source(src, options, out, nullptr);
  if (!s.ok()) return s.with_context(name);
  return out;
}

namespace {

Result<ModelFile> read_file(const std::string& path, const ReadOptions& options, TensorSink* sink) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status(Errc::io, path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Status(Errc::io, path + ": cannot stat: " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status(Errc::io, path + ": not a regular file");
  }
  FileSource src(fd, static_cast<uint64_t>(st.st_size));
  ModelFile out;
  Status s = parse_source(src, options, out, sink);
  if (!s.ok()) return s.with_context(path);
  return out;
}

}  // namespace

Result<ModelFile> read_model(const std::string& path, const ReadOptions& options) {
  return read_file(path, options, nullptr);
}

Result<ModelFile> read_model(const std::string& path, const ReadOptions& options, TensorSink& sink) {
  return read_file(path, options, &sink);
}

}  // namespace recur
