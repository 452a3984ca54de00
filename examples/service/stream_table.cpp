// Stream lookup, creation, LRU order and idle expiry.
#include "stream_table.hpp"

#include <new>

namespace recur::service {

StreamTable::StreamTable(size_t max_streams, Clock::duration idle_limit)
    : max_streams_(max_streams), idle_limit_(idle_limit) {}

StreamTable::Acquired StreamTable::acquire(const std::string& id, Clock::time_point now,
                                           const std::function<Result<State>()>& make_state) {
  std::lock_guard<std::mutex> lock(mu_);
  expire_locked(now);
  if (auto it = streams_.find(id); it != streams_.end()) {
    it->second.last_used = now;
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return {Outcome::found, it->second.stream, {}};
  }
  if (streams_.size() >= max_streams_) {
    ++counts_.rejected_full;
    return {Outcome::full, nullptr, {}};
  }
  Result<State> state = make_state();
  if (!state) return {Outcome::failed, nullptr, state.status()};
  try {
    auto stream = std::make_shared<Stream>();
    stream->state = std::move(*state);
    lru_.push_front(id);
    streams_.emplace(id, Entry{stream, now, lru_.begin()});
    ++counts_.created;
    return {Outcome::created, std::move(stream), {}};
  } catch (const std::bad_alloc&) {
    if (!lru_.empty() && lru_.front() == id && !streams_.count(id)) lru_.pop_front();
    return {Outcome::failed, nullptr, Status(Errc::out_of_memory, "out of memory for a new stream")};
  }
}

bool StreamTable::erase(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = streams_.find(id);
  if (it == streams_.end()) return false;
  lru_.erase(it->second.lru);
  streams_.erase(it);
  ++counts_.deleted;
  return true;
}

size_t StreamTable::expire(Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  return expire_locked(now);
}

size_t StreamTable::expire_locked(Clock::time_point now) {
  size_t dropped = 0;
  // lru_ is ordered by last use, so the expired streams are a suffix of it.
  while (!lru_.empty()) {
    auto it = streams_.find(lru_.back());
    if (now - it->second.last_used <= idle_limit_) break;
    streams_.erase(it);
    lru_.pop_back();
    ++dropped;
  }
  counts_.expired += dropped;
  return dropped;
}

StreamTable::Counts StreamTable::counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  Counts c = counts_;
  c.active = streams_.size();
  return c;
}

}  // namespace recur::service
