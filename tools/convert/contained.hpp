// Crash containment for importers built on libraries that are not hardened against hostile
// files. libhdf5 (the Keras importer's reader) has a long record of crashes on crafted files;
// `recur convert` runs a Keras conversion in a forked child so that such a crash is reported as
// an error about the file, with nothing written, instead of killing the caller with a signal.
#pragma once

#include <functional>
#include <string>

namespace recur::convert {

// Runs body() in a child process and returns its result. If the child dies of a signal, prints
// "recur convert: bad_metadata: <what>: the reader crashed ..." to stderr and returns 1. Flushes stdio first so
// nothing is printed twice. If the process cannot fork, runs body() in this process.
int run_contained(const std::string& what, const std::function<int()>& body);

}  // namespace recur::convert
