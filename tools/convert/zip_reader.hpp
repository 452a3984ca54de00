// Read-only access to the zip archives PyTorch (.pt/.pth) and Keras 3 (.keras) save: open with
// libzip's consistency checks, list entries, read one entry whole with a size cap.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "recur/status.hpp"

struct zip;

namespace recur::convert {

class ZipReader {
 public:
  // `path` names the archive in messages too.
  static Result<ZipReader> open(const std::string& path);

  std::vector<std::string> entry_names() const;
  // The inflated size the archive records for `entry` (read() checks it is the real one).
  Result<uint64_t> entry_size(const std::string& entry, Errc missing) const;
  // The bytes of `entry`; a missing entry is `missing` (what that means depends on the format),
  // one above `max_bytes` unsupported, one that does not inflate to its recorded size truncated.
  Result<std::vector<uint8_t>> read(const std::string& entry, uint64_t max_bytes, Errc missing) const;

 private:
  struct Closer {
    void operator()(zip* z) const;
  };
  std::string path_;
  std::unique_ptr<zip, Closer> z_;
};

}  // namespace recur::convert
