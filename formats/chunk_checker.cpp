#include "formats/chunk_checker.hpp"

#include <algorithm>
#include <system_error>

#include "formats/finite.hpp"

namespace recur {

ChunkChecker::ChunkChecker(XXH64_state_t* hash, bool finite, bool threaded)
    : hash_(hash), finite_(finite) {
  if (!threaded || (!hash && !finite)) return;
  try {
    worker_ = std::thread([this] { work(); });
  } catch (const std::system_error&) {
    // No thread to be had: the checks run inline.
  }
}

ChunkChecker::~ChunkChecker() { static_cast<void>(finish()); }

ChunkChecker::Buffer ChunkChecker::staging(size_t n) {
  const int slot = next_slot_;
  if (worker_.joinable()) {  // rotate through the ring (inline, checks end at once: one buffer serves)
    next_slot_ = (next_slot_ + 1) % kSlots;
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return busy_[slot] == 0; });
  }
  std::vector<float>& buf = slots_[slot];
  if (buf.size() < n) buf.resize(n);
  return {buf.data(), slot};
}

void ChunkChecker::floats(const float* data, int64_t n, const std::string* name, int64_t first, int slot) {
  submit(Job{data, n, name, first, slot});
}

void ChunkChecker::zeros(uint64_t n) {
  if (hash_ && n > 0) submit(Job{nullptr, static_cast<int64_t>(n), nullptr, 0, -1});
}

void ChunkChecker::submit(const Job& job) {
  if (!worker_.joinable()) return check(job);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    jobs_.push_back(job);
    if (job.slot >= 0) ++busy_[job.slot];
  }
  changed_.notify_all();
}

Status ChunkChecker::finish() {
  if (worker_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closing_ = true;
    }
    changed_.notify_all();
    worker_.join();
  }
  return error_;
}

void ChunkChecker::check(const Job& job) {
  if (!job.data) {
    static const uint8_t kZeros[256] = {};
    for (int64_t left = job.n; left > 0; left -= static_cast<int64_t>(sizeof kZeros)) {
      XXH64_update(hash_, kZeros, static_cast<size_t>(std::min<int64_t>(left, sizeof kZeros)));
    }
    return;
  }
  if (hash_) XXH64_update(hash_, job.data, static_cast<size_t>(job.n) * sizeof(float));
  if (finite_ && error_.ok()) {
    const int64_t i = first_non_finite(job.data, job.n);
    if (i < job.n) {
      error_ = Status(Errc::non_finite, "tensor '" + *job.name + "' has a non-finite value at flat index " +
                                            std::to_string(job.first + i));
      failed_.store(true, std::memory_order_relaxed);
    }
  }
}

void ChunkChecker::work() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return !jobs_.empty() || closing_; });
      if (jobs_.empty()) return;
      job = jobs_.front();
      jobs_.pop_front();
    }
    check(job);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (job.slot >= 0) --busy_[job.slot];
    }
    changed_.notify_all();
  }
}

}  // namespace recur
