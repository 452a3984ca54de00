// Crash containment for importers built on libraries that are not hardened against hostile
// files. libhdf5 (the Keras importer's reader) has a long record of crashes on crafted files,
// and some make it allocate without bound; `recur convert` runs a Keras conversion in a forked
// child with a memory and CPU-time cap, so that such a file is reported as an error about the
// file, with nothing written, instead of killing or exhausting the caller.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace recur::convert {

struct ContainLimits {
  uint64_t max_memory_bytes = 0;  // address space of the child; 0 = no cap
  uint64_t max_cpu_seconds = 0;   // CPU time of the child; 0 = no cap
  uint64_t max_wall_seconds = 0;  // real time of the child (a read blocked on a FIFO); 0 = no cap
};

// The caps for converting a source of `source_bytes`: room for the importer's copies of the
// weights and the self-check (a few times the source) plus 4 GiB; a minute plus one per 50 MB of
// CPU, twice that of real time (a busy machine).
ContainLimits limits_for_source(uint64_t source_bytes);

// Runs body() in a child process under `limits` and returns its result. If the child dies of a
// signal (a crash, or a cap reached), prints "recur convert: bad_metadata: <what>: the reader
// crashed ..." to stderr and returns 1. The child dies with this process (PR_SET_PDEATHSIG).
// Flushes stdio first so nothing is printed twice. If the
// process cannot fork, runs body() in this process. The memory cap is not applied in ASan
// builds (ASan reserves terabytes of address space for its shadow).
int run_contained(const std::string& what, const ContainLimits& limits, const std::function<int()>& body);

}  // namespace recur::convert
