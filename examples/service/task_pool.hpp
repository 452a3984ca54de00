// A fixed set of threads taking tasks from a bounded queue: the service's request handlers.
// A full queue refuses new tasks at once (the caller answers 503) instead of growing.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace recur::service {

class TaskPool {
 public:
  TaskPool(int threads, size_t max_queued);
  ~TaskPool();  // shutdown()
  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;

  // Queues `task`; false when max_queued tasks already wait or the pool is shut down.
  bool try_post(std::function<void()> task);

  // Runs what is queued, then joins the threads. Idempotent.
  void shutdown();

 private:
  void work();

  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace recur::service
