// The named streams of POST /v1/streams/{id}/step: one recur::State (batch 1) per stream id,
// a bounded count, idle expiry, and least-recently-used order. When the table is full after
// dropping expired streams, a new id is refused (the caller answers 429): a live stream's
// state is never dropped to make room. Each stream has its own mutex, held while it steps, so
// concurrent steps of one stream serialize and different streams never share a State.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "recur/model.hpp"

namespace recur::service {

struct Stream {
  std::mutex mu;        // held while stepping
  State state;          // batch 1
  int64_t steps = 0;    // steps taken so far
};

class StreamTable {
 public:
  using Clock = std::chrono::steady_clock;

  StreamTable(size_t max_streams, Clock::duration idle_limit);

  enum class Outcome { found, created, full, failed };
  struct Acquired {
    Outcome outcome;
    std::shared_ptr<Stream> stream;  // null when full or failed
    Status status;                   // why `failed`
  };
  // The stream `id`, created with make_state() if new (and there is room once expired streams
  // are dropped); marked as used at `now`.
  Acquired acquire(const std::string& id, Clock::time_point now,
                   const std::function<Result<State>()>& make_state);

  // Drops the stream; false when the id is unknown. A step in flight on it still completes.
  bool erase(const std::string& id);

  // Drops streams unused for longer than the idle limit; returns how many.
  size_t expire(Clock::time_point now);

  struct Counts {
    size_t active = 0;
    uint64_t created = 0, expired = 0, deleted = 0, rejected_full = 0;
  };
  Counts counts() const;

 private:
  struct Entry {
    std::shared_ptr<Stream> stream;
    Clock::time_point last_used;
    std::list<std::string>::iterator lru;  // position in lru_
  };
  size_t expire_locked(Clock::time_point now);

  const size_t max_streams_;
  const Clock::duration idle_limit_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> streams_;
  std::list<std::string> lru_;  // most recently used first
  Counts counts_;
};

}  // namespace recur::service
