// recur embedded in an HTTP/JSON service: one Model loaded once and shared by every request
// thread; POST /v1/predict (micro-batched), POST /v1/streams/{id}/step and DELETE
// /v1/streams/{id} (one State per stream), GET /healthz, GET /metrics. See README.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "batcher.hpp"
#include "recur/model.hpp"

namespace recur::service {

struct ServiceOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                   // 0 = any free port (start() returns it)
  bool batching = true;              // false: each predict runs alone on its request thread
  BatcherOptions batcher;            // window, max batch, workers, threads per run
  size_t max_streams = 10000;        // beyond that a new stream id gets 429
  std::chrono::milliseconds stream_idle{300000};  // streams unused this long are dropped
  int http_threads = 128;            // request threads; each keep-alive connection holds one
  size_t max_body_bytes = 4u << 20;  // larger bodies get 413
};

class Service {
 public:
  Service(Model model, const ServiceOptions& options);
  ~Service();  // stop()
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Binds host:port and serves on a background thread; returns the bound port.
  Result<int> start();
  // Stops accepting, lets requests in flight finish, then stops the batcher. Idempotent.
  void stop();
  // Blocks until the server stops (by stop() from another thread).
  void wait();

  const Model& model() const noexcept;

  struct Impl;
 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace recur::service
