// The service's HTTP/1.1 server (Boost.Beast on Asio): one event-driven I/O thread owns every
// connection, so a connection holds no thread while it waits for bytes, and a pool of handler
// threads runs the requests that cost CPU. Every connection is bounded: the whole request
// (header and body, chunked or not) must arrive within the read timeout and within the header
// and body limits, the response must be taken within the write timeout, and at most
// max_connections are open. Cheap requests (probes, metrics) are answered on the I/O thread,
// never queued behind the handlers. While a request is being handled the server watches its
// connection and flags the request when the client hangs up, so queued work can be dropped.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "recur/status.hpp"

namespace recur::service {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                      // 0 = any free port (start() returns it)
  int handler_threads = 128;            // threads running requests; a connection holds none
  size_t max_queued = 1024;             // requests waiting for a handler thread; beyond: 503
  size_t max_connections = 1024;        // open connections; a new one beyond gets 503 and is closed
  size_t max_body_bytes = 4u << 20;     // decoded body (Content-Length or chunked); beyond: 413
  size_t max_header_bytes = 16u << 10;  // request line and header fields; beyond: 431
  size_t max_header_fields = 100;       // header fields; beyond: 431
  std::chrono::milliseconds read_timeout{10000};   // a whole request, from the previous response
  std::chrono::milliseconds write_timeout{10000};  // a whole response
};

struct HttpRequest {
  std::string method;        // "GET", ...; "-" when the request line was unreadable
  std::string target;        // as sent, e.g. "/v1/predict?x=1"
  std::string path;          // target without the query
  unsigned version = 11;     // 10 or 11
  std::string content_type;  // the Content-Type field, as sent
  std::string body;
  std::string peer;          // "address:port" of the client
  std::chrono::steady_clock::time_point received;  // when it had arrived whole
  // Set (by the I/O thread) once the client has closed its connection.
  std::shared_ptr<const std::atomic<bool>> client_gone;
  bool gone() const noexcept { return client_gone && client_gone->load(std::memory_order_relaxed); }
};

// 499: the client closed the connection before its answer (never written).
inline constexpr int kClientClosed = 499;

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra fields, e.g. Allow
};

struct HttpHandlers {
  // true: answer on the I/O thread (must be cheap and never block); false: on a handler thread.
  std::function<bool(const HttpRequest&)> answer_inline;
  std::function<void(const HttpRequest&, HttpResponse&)> handle;
  // Fills the body of a response the server makes itself (408, 413, 431, 400, 503).
  std::function<void(const std::string& message, HttpResponse&)> error_body;
  // Every answer, just before it is written (499s too, which are not written). Any thread.
  std::function<void(const HttpRequest&, const HttpResponse&)> on_response;
};

class HttpServer {
 public:
  HttpServer(const HttpServerOptions& options, HttpHandlers handlers);
  ~HttpServer();  // stop(0)
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds host:port, starts the I/O and handler threads; returns the bound port.
  Result<int> start();

  // Starts draining: draining() turns true, idle keep-alive connections are closed, and every
  // later response carries `Connection: close`. New connections are still accepted (probes
  // can see the drain) until stop().
  void drain();
  bool draining() const noexcept;

  // drain(), then waits (at most `deadline`) until no request is being handled or written;
  // then closes the listener and every connection (requests still queued are dropped as
  // 499) and joins all threads. Connections still sending their request are not waited for.
  // Idempotent; returns once everything has stopped.
  void stop(std::chrono::milliseconds deadline);
  // Blocks until stop() has finished (from another thread).
  void wait();

  struct Counts {
    uint64_t open = 0;       // connections open now
    uint64_t accepted = 0;   // connections accepted in all
    uint64_t rejected = 0;   // connections refused: max_connections open
    uint64_t timed_out = 0;  // requests not read (or responses not taken) in time
    uint64_t busy = 0;       // requests being handled or written now
  };
  Counts counts() const;

  struct Impl;
 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace recur::service
