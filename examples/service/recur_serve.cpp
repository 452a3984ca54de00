// recur_serve: serve one .recur model over HTTP/JSON (see README.md for the endpoints).
//   recur_serve MODEL.recur --port 8080 [--host 127.0.0.1] [--batch-window-us 300] ...
// Stops cleanly on SIGINT/SIGTERM: /readyz turns 503, requests being handled get at most
// --drain-timeout-s to finish, then every connection is closed and the process exits.
#include <csignal>
#include <cstdio>
#include <memory>
#include <mutex>
#include <pthread.h>
#include <thread>

#include <CLI/CLI.hpp>

#include "service.hpp"

int main(int argc, char** argv) {
  using recur::service::ServiceOptions;
  CLI::App app{"recur_serve: serve a .recur model over HTTP/JSON with micro-batching and streams"};
  std::string model_path;
  ServiceOptions o;
  int64_t window_us = o.batcher.window.count();
  double idle_s = static_cast<double>(o.stream_idle.count()) / 1000.0;
  bool no_batching = false;
  int workers = 0;
  size_t max_body_kib = o.http.max_body_bytes >> 10;
  size_t max_header_kib = o.http.max_header_bytes >> 10;
  double read_timeout_s = static_cast<double>(o.http.read_timeout.count()) / 1000.0;
  double write_timeout_s = static_cast<double>(o.http.write_timeout.count()) / 1000.0;
  double drain_timeout_s = 10.0;
  int64_t max_response_mib = o.max_response_bytes >> 20;
  std::string access_log;
  app.add_option("model", model_path, "the .recur model to serve")->required()->check(CLI::ExistingFile);
  app.add_option("--host", o.http.host, "address to bind (loopback only unless you say otherwise)")
      ->capture_default_str();
  app.add_option("--port", o.http.port, "TCP port (0 = any free port, printed at start)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_option("--batch-window-us", window_us,
                 "longest a predict request waits for others to share its Model::run")
      ->check(CLI::Range(int64_t{0}, int64_t{1000000}))
      ->capture_default_str();
  app.add_option("--max-batch", o.batcher.max_batch, "most sequences per Model::run")
      ->check(CLI::Range(int64_t{1}, int64_t{65536}))
      ->capture_default_str();
  app.add_option("--threads", workers,
                 "inference workers, each running one batch at a time (0 = the CPUs available)")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  app.add_option("--run-threads", o.batcher.run_threads, "threads of each Model::run (1 = none)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_flag("--no-batching", no_batching, "run each predict alone on its handler thread");
  app.add_option("--max-streams", o.max_streams, "most live streams; a new id beyond that gets 429")
      ->check(CLI::Range(size_t{1}, size_t{100000000}))
      ->capture_default_str();
  app.add_option("--stream-idle-s", idle_s, "drop streams unused this long")
      ->check(CLI::Range(0.0, 1e7))
      ->capture_default_str();
  app.add_option("--handler-threads", o.http.handler_threads,
                 "threads running requests (a connection holds none while it sends or waits)")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--max-connections", o.http.max_connections,
                 "open connections; one more gets 503 and is closed")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20))
      ->capture_default_str();
  app.add_option("--max-body-kib", max_body_kib, "larger request bodies (also chunked ones) get 413")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20))
      ->capture_default_str();
  app.add_option("--max-header-kib", max_header_kib, "a larger request line + header gets 431")
      ->check(CLI::Range(size_t{1}, size_t{1024}))
      ->capture_default_str();
  app.add_option("--read-timeout-s", read_timeout_s,
                 "each request must arrive whole this soon after the connection's previous answer "
                 "(or its opening), else 408; idle keep-alive connections close after it")
      ->check(CLI::Range(0.001, 3600.0))
      ->capture_default_str();
  app.add_option("--write-timeout-s", write_timeout_s, "each answer must be taken this soon, else closed")
      ->check(CLI::Range(0.001, 3600.0))
      ->capture_default_str();
  app.add_option("--drain-timeout-s", drain_timeout_s,
                 "on SIGTERM/SIGINT, the longest requests being handled may take before the server closes")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  app.add_option("--max-work", o.max_work, "most B*T*width one predict may ask for; beyond: 422")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 50))
      ->capture_default_str();
  app.add_option("--max-response-mib", max_response_mib, "bound on one predict's answer; beyond: 422")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20))
      ->capture_default_str();
  app.add_option("--access-log", access_log, "one line per request to this file (- = stdout); none by default");
  std::string precision = "file";
  app.add_option("--precision", precision,
                 "file (the file's own) | f32 | int8 (dynamic quantization, docs/precision.md)")
      ->check(CLI::IsMember({"file", "f32", "bf16", "int8"}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  o.batching = !no_batching;
  o.batcher.window = std::chrono::microseconds(window_us);
  o.batcher.workers = workers > 0 ? workers : recur::available_cpus();
  o.stream_idle = std::chrono::milliseconds(static_cast<int64_t>(idle_s * 1000.0));
  o.http.max_body_bytes = max_body_kib << 10;
  o.http.max_header_bytes = max_header_kib << 10;
  auto millis = [](double s) { return std::chrono::milliseconds(static_cast<int64_t>(s * 1000.0)); };
  o.http.read_timeout = millis(read_timeout_s);
  o.http.write_timeout = millis(write_timeout_s);
  o.max_response_bytes = max_response_mib << 20;

  std::FILE* log_file = nullptr;
  if (access_log == "-") {
    log_file = stdout;
  } else if (!access_log.empty()) {
    log_file = std::fopen(access_log.c_str(), "a");
    if (!log_file) {
      std::fprintf(stderr, "recur_serve: cannot open the access log %s\n", access_log.c_str());
      return 1;
    }
  }
  if (log_file) {
    auto mu = std::make_shared<std::mutex>();
    o.access_log = [log_file, mu](const std::string& line) {
      std::lock_guard<std::mutex> lock(*mu);
      std::fprintf(log_file, "%s\n", line.c_str());
      std::fflush(log_file);
    };
  }

  recur::LoadOptions load;
  recur::parse_precision(precision, load.precision);  // a member of the set above
  recur::Result<recur::Model> model = recur::Model::load(model_path, load);
  if (!model) {
    std::fprintf(stderr, "recur_serve: %s\n", model.status().to_string().c_str());
    return 1;
  }

  std::signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not end the server
  // Signals go to a dedicated thread (blocked everywhere else, inherited by every thread).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  recur::service::Service service(std::move(*model), o);
  recur::Result<int> port = service.start();
  if (!port) {
    std::fprintf(stderr, "recur_serve: %s\n", port.status().to_string().c_str());
    return 1;
  }
  const recur::Model& m = service.model();
  std::printf("recur_serve: %s on http://%s:%d (I=%lld, O=%lld, isa %s; batching %s, window %lld us, "
              "max batch %lld, %d workers)\n",
              model_path.c_str(), o.http.host.c_str(), *port, static_cast<long long>(m.input_size()),
              static_cast<long long>(m.output_size()), recur::isa_name(m.isa()),
              o.batching ? "on" : "off", static_cast<long long>(window_us),
              static_cast<long long>(o.batcher.max_batch), o.batcher.workers);
  std::fflush(stdout);

  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    std::printf("recur_serve: signal %d, stopping\n", sig);
    std::fflush(stdout);
    service.stop(millis(drain_timeout_s));
  });
  service.wait();
  waiter.join();
  if (log_file && log_file != stdout) std::fclose(log_file);
  return 0;
}
