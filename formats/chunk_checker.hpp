// The reader's checks of each chunk of tensor data — the checksum (xxh64, in file order) and
// the finite test of the weights — run either inline or on a second thread while the reader
// goes on copying and packing the next chunks. On a large model the checks are about a third of
// the load (an H=1024 LSTM: 32 MiB hashed and tested); on a second core they overlap the rest.
// Either way the chunks are checked in the order given and the first non-finite value is the
// one reported, so a file gives the same result (and message) on both routes.
#pragma once

#include <xxhash.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "recur/status.hpp"

namespace recur {

class ChunkChecker {
 public:
  // hash: the running checksum to continue (null: none); finite: test the floats for NaN/Inf;
  // threaded: check on a second thread (falls back to inline if it cannot be started).
  ChunkChecker(XXH64_state_t* hash, bool finite, bool threaded);
  ~ChunkChecker();  // finishes the checks
  ChunkChecker(const ChunkChecker&) = delete;
  ChunkChecker& operator=(const ChunkChecker&) = delete;

  // A buffer for the next chunk of at least n floats that no pending check still reads (the
  // staging of rows handed to a sink): waits while all of the ring's buffers are being checked.
  struct Buffer {
    float* data;
    int slot;
  };
  Buffer staging(size_t n);
  // Checks n floats (flat indices [first, first + n) of tensor *name) and hashes their bytes.
  // data must not change until finish(), or, for a staging buffer (its slot), until staging()
  // hands it out again. *name must outlive the checker.
  void floats(const float* data, int64_t n, const std::string* name, int64_t first, int slot = -1);
  // Hashes n zero bytes (padding the reader has verified).
  void zeros(uint64_t n);
  // Waits for every check; the first non-finite value found, if any. Then checks run inline.
  Status finish();
  // Whether a check has failed already (the reader need not go on).
  bool failed() const noexcept { return failed_.load(std::memory_order_relaxed); }

 private:
  struct Job {
    const float* data;  // null: n zero bytes
    int64_t n;
    const std::string* name;
    int64_t first;
    int slot;
  };
  static constexpr int kSlots = 4;

  void submit(const Job& job);  // to the second thread's queue, or checked at once
  void check(const Job& job);   // hash and test one job (error_ keeps the first failure)
  void work();                  // the second thread

  XXH64_state_t* hash_;
  bool finite_;
  Status error_;                       // written by the checking thread, read after finish()
  std::atomic<bool> failed_{false};
  std::vector<float> slots_[kSlots];
  int next_slot_ = 0;

  std::thread worker_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Job> jobs_;
  int busy_[kSlots] = {};  // pending jobs per staging buffer
  bool closing_ = false;
};

}  // namespace recur
