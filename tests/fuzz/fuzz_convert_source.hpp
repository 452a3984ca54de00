// Shared by the converter fuzz targets: hand the fuzz bytes to a path-based importer through an
// anonymous in-memory file (memfd), so no file system state is touched.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "tools/convert/convert.hpp"

template <class Fn>
void fuzz_convert_bytes(const uint8_t* data, size_t size, Fn convert) {
  int fd = memfd_create("recur_fuzz_source", 0);
  if (fd < 0) return;
  size_t done = 0;
  while (done < size) {
    ssize_t n = write(fd, data + done, size - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  recur::convert::ConvertOptions options;
  auto r = convert("/proc/self/fd/" + std::to_string(fd), options);
  // Whatever converts must be a valid model with a working source reference.
  if (r.ok() && !recur::validate(r->spec).ok()) __builtin_trap();
  close(fd);
}
