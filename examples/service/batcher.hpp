// Micro-batching for POST /v1/predict: concurrent requests with the same sequence length T
// are stacked into one Model::run call over all their sequences, then the outputs are split
// back per request. Workers never hold a request longer than the batch window, and only wait
// at all while other requests are known to be on their way (being parsed); a request alone is
// run at once.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "json_codec.hpp"
#include "metrics.hpp"
#include "recur/model.hpp"

namespace recur::service {

// What one request gets back; http_status 200 or the error to send with `error`.
struct PredictResult {
  int http_status = 200;
  std::string error;
  std::vector<float> y;          // (B, T, O), or (B, O) when the head is last-step-only
  std::vector<int64_t> y_shape;
  std::vector<float> h_n;        // (L*D, B, Hout) when return_state
  std::vector<int64_t> h_shape;
  std::vector<float> c_n;        // (L*D, B, H) when return_state and the model has lstm layers
  std::vector<int64_t> c_shape;
};

// Runs `requests` (all with the same T) as one Model::run over their stacked sequences
// (batch-major) and fills results[i] for requests[i]. One request runs on its own buffers.
void run_group(const Model& model, const std::vector<const PredictRequest*>& requests,
               const std::vector<PredictResult*>& results, int run_threads);

struct BatcherOptions {
  std::chrono::microseconds window{300};  // longest a queued request waits for company
  int64_t max_batch = 64;                 // sequences per Model::run (a bigger request runs alone)
  int workers = 1;                        // threads calling Model::run
  int run_threads = 1;                    // RunOptions.threads of each call
  int64_t max_queued = 4096;              // sequences waiting; beyond that, 503
};

class MicroBatcher {
 public:
  MicroBatcher(const Model& model, const BatcherOptions& options, Metrics& metrics);
  ~MicroBatcher();
  MicroBatcher(const MicroBatcher&) = delete;
  MicroBatcher& operator=(const MicroBatcher&) = delete;

  // Announces a request whose body is being parsed: while any are announced, a worker with a
  // partial batch waits (at most the window) for them. Ends at submit or destruction.
  class Arrival {
   public:
    explicit Arrival(MicroBatcher* owner) : owner_(owner) {}
    Arrival(Arrival&& o) noexcept : owner_(o.owner_) { o.owner_ = nullptr; }
    Arrival(const Arrival&) = delete;
    Arrival& operator=(const Arrival&) = delete;
    Arrival& operator=(Arrival&&) = delete;
    ~Arrival() { end(); }
    void end();

   private:
    MicroBatcher* owner_;
  };
  Arrival announce();

  // Runs the request batched with concurrent ones of the same T; blocks until it is done.
  // Once *cancelled is true (its client hung up) a request still queued is dropped, not run:
  // http_status 499.
  PredictResult predict(const PredictRequest& request, Arrival& arrival,
                        const std::atomic<bool>* cancelled = nullptr);

  // Runs what is queued, then joins the workers; later predicts get 503.
  void stop();

 private:
  struct Job {
    const PredictRequest* request = nullptr;
    PredictResult* result = nullptr;
    std::chrono::steady_clock::time_point queued_at;
    const std::atomic<bool>* cancelled = nullptr;
    bool done = false;
    std::condition_variable done_cv;  // its submitter waits here (no herd of wake-ups)
  };
  void work();
  void drop_cancelled();  // under mu_

  const Model& model_;
  const BatcherOptions options_;
  Metrics& metrics_;

  std::mutex mu_;
  std::condition_variable work_cv_;  // workers: a job was queued, an arrival ended, or stop
  std::deque<Job*> queue_;           // oldest first
  int64_t queued_sequences_ = 0;
  int64_t announced_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace recur::service
