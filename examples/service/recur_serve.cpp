// recur_serve: serve one .recur model over HTTP/JSON (see README.md for the endpoints).
//   recur_serve MODEL.recur --port 8080 [--host 127.0.0.1] [--batch-window-us 300] ...
// Stops cleanly on SIGINT/SIGTERM: in-flight requests finish, then the process exits.
#include <csignal>
#include <cstdio>
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
  size_t max_body_kib = o.max_body_bytes >> 10;
  app.add_option("model", model_path, "the .recur model to serve")->required()->check(CLI::ExistingFile);
  app.add_option("--host", o.host, "address to bind (default 127.0.0.1: loopback only)");
  app.add_option("--port", o.port, "TCP port (0 = any free port, printed at start)")->check(CLI::Range(0, 65535));
  app.add_option("--batch-window-us", window_us,
                 "longest a predict request waits for others to share its Model::run")
      ->check(CLI::Range(int64_t{0}, int64_t{1000000}));
  app.add_option("--max-batch", o.batcher.max_batch, "most sequences per Model::run")
      ->check(CLI::Range(int64_t{1}, int64_t{65536}));
  app.add_option("--threads", workers,
                 "inference workers, each running one batch at a time (0 = the CPUs available)")
      ->check(CLI::Range(0, 1024));
  app.add_option("--run-threads", o.batcher.run_threads, "threads of each Model::run (1 = none)")
      ->check(CLI::Range(1, 1024));
  app.add_flag("--no-batching", no_batching, "run each predict alone on its request thread");
  app.add_option("--max-streams", o.max_streams, "most live streams; a new id beyond that gets 429")
      ->check(CLI::Range(size_t{1}, size_t{100000000}));
  app.add_option("--stream-idle-s", idle_s, "drop streams unused this long")->check(CLI::Range(0.0, 1e7));
  app.add_option("--http-threads", o.http_threads,
                 "request threads (each open keep-alive connection holds one)")
      ->check(CLI::Range(1, 4096));
  app.add_option("--max-body-kib", max_body_kib, "larger request bodies get 413")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20));
  std::string precision = "file";
  app.add_option("--precision", precision,
                 "file (default: the file's own) | f32 | int8 (dynamic quantization, docs/precision.md)")
      ->check(CLI::IsMember({"file", "f32", "bf16", "int8"}));
  CLI11_PARSE(app, argc, argv);

  o.batching = !no_batching;
  o.batcher.window = std::chrono::microseconds(window_us);
  o.batcher.workers = workers > 0 ? workers : recur::available_cpus();
  o.stream_idle = std::chrono::milliseconds(static_cast<int64_t>(idle_s * 1000.0));
  o.max_body_bytes = max_body_kib << 10;

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
              model_path.c_str(), o.host.c_str(), *port, static_cast<long long>(m.input_size()),
              static_cast<long long>(m.output_size()), recur::isa_name(m.isa()),
              o.batching ? "on" : "off", static_cast<long long>(window_us),
              static_cast<long long>(o.batcher.max_batch), o.batcher.workers);
  std::fflush(stdout);

  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    std::printf("recur_serve: signal %d, stopping\n", sig);
    std::fflush(stdout);
    service.stop();
  });
  service.wait();
  waiter.join();
  service.stop();
  return 0;
}
