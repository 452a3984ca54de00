// recur embedded in an HTTP/JSON service: one Model loaded once and shared by every request
// thread; POST /v1/predict (micro-batched), POST /v1/streams/{id}/step and DELETE
// /v1/streams/{id} (one State per stream), GET /healthz, /livez, /readyz, /metrics
// (Prometheus text) and /metrics.json. See README.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "batcher.hpp"
#include "http_server.hpp"
#include "recur/model.hpp"

namespace recur::service {

struct ServiceOptions {
  HttpServerOptions http;            // address, handler threads, connection and request limits
  bool batching = true;              // false: each predict runs alone on its handler thread
  BatcherOptions batcher;            // window, max batch, workers, threads per run
  size_t max_streams = 10000;        // beyond that a new stream id gets 429
  std::chrono::milliseconds stream_idle{300000};  // streams unused this long are dropped
  int64_t max_work = int64_t{1} << 25;              // B*T*width of one predict; beyond: 422
  int64_t max_response_bytes = int64_t{64} << 20;  // bound on one predict's answer; beyond: 422
  // One line per answered request (no newline at its end), from any thread; null = none.
  std::function<void(const std::string& line)> access_log;
};

class Service {
 public:
  Service(Model model, const ServiceOptions& options);
  ~Service();  // stop(0)
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Binds host:port and serves on background threads; returns the bound port.
  Result<int> start();
  // /readyz answers 503 from now on, keep-alive ends; requests are still served.
  void drain();
  // Drains, waits at most `deadline` for requests being handled, then closes every connection
  // (queued requests are dropped) and stops the batcher. Idempotent.
  void stop(std::chrono::milliseconds deadline = std::chrono::milliseconds(0));
  // Blocks until stop() has finished on another thread.
  void wait();

  const Model& model() const noexcept;

  struct Impl;
 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace recur::service
