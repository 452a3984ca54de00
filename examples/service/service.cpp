// The HTTP side of the service: routes, content checks, error bodies, metrics bookkeeping.
// Every handler answers JSON; every failure is a 4xx/5xx with {"error": message}.
#include "service.hpp"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "json_codec.hpp"
#include "metrics.hpp"
#include "stream_table.hpp"

namespace recur::service {

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kJson = "application/json";
constexpr size_t kMaxStreamIdLength = 128;

// "/v1/streams/{id}" -> id (no '/' in it), else "".
std::string stream_id_of(const std::string& path) {
  static const std::string prefix = "/v1/streams/";
  if (path.compare(0, prefix.size(), prefix) != 0) return {};
  std::string id = path.substr(prefix.size());
  return id.find('/') == std::string::npos ? id : std::string();
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Which endpoint a request was for, from its method and path (for metrics).
Endpoint classify(const httplib::Request& req) {
  if (req.path == "/v1/predict" && req.method == "POST") return Endpoint::predict;
  if (req.path == "/healthz" && req.method == "GET") return Endpoint::healthz;
  if (req.path == "/metrics" && req.method == "GET") return Endpoint::metrics;
  if (req.method == "POST" && ends_with(req.path, "/step") &&
      !stream_id_of(req.path.substr(0, req.path.size() - 5)).empty()) {
    return Endpoint::stream_step;
  }
  if (req.method == "DELETE" && !stream_id_of(req.path).empty()) return Endpoint::stream_delete;
  return Endpoint::other;
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(error_json(message), kJson);
}

// Content-Type must be application/json (parameters such as charset allowed).
bool is_json(const httplib::Request& req) {
  std::string type = req.get_header_value("Content-Type");
  type = type.substr(0, type.find(';'));
  type.erase(std::remove_if(type.begin(), type.end(), [](unsigned char c) { return std::isspace(c); }),
             type.end());
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
  return type == kJson;
}

bool valid_stream_id(const std::string& id) {
  if (id.empty() || id.size() > kMaxStreamIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-' || c == '.' || c == ':';
  });
}

const char* reason(int status) {
  switch (status) {
    case 400: return "bad request";
    case 404: return "not found";
    case 405: return "method not allowed";
    case 408: return "request timeout";
    case 413: return "payload too large";
    case 414: return "URI too long";
    case 415: return "unsupported media type";
    case 416: return "range not satisfiable";
    case 429: return "too many streams";
    case 500: return "internal error";
    case 503: return "service unavailable";
    default: return "error";
  }
}

}  // namespace

struct Service::Impl {
  Model model;
  ServiceOptions options;
  Metrics metrics;
  StreamTable streams;
  std::unique_ptr<MicroBatcher> batcher;  // null without batching
  Status streamable;                      // ok, or why this model cannot step
  httplib::Server server;
  std::thread listener;
  int listen_fd = -1;  // the listening socket, seen in set_socket_options
  std::mutex stop_mu;  // serializes stop()
  std::mutex state_mu;
  std::condition_variable stopped_cv;
  bool stopped = false;

  Impl(Model m, const ServiceOptions& o)
      : model(std::move(m)),
        options(o),
        streams(o.max_streams, o.stream_idle) {
    Result<State> probe = model.new_state(1);
    if (!probe) streamable = probe.status();
    if (options.batching) batcher = std::make_unique<MicroBatcher>(model, options.batcher, metrics);
    configure_server();
  }

  // Wraps a handler: latency, and a JSON 500 instead of an escaped exception.
  httplib::Server::Handler timed(Endpoint e, void (Impl::*fn)(const httplib::Request&, httplib::Response&)) {
    return [this, e, fn](const httplib::Request& req, httplib::Response& res) {
      const Clock::time_point t0 = Clock::now();
      try {
        (this->*fn)(req, res);
      } catch (const std::bad_alloc&) {
        send_error(res, 503, "out of memory while handling the request");
      } catch (const std::exception& ex) {
        send_error(res, 500, std::string("internal error: ") + ex.what());
      }
      metrics.record_latency(e, Clock::now() - t0);
      // Counted here, before the response is written, so a client that has its answer sees
      // it in /metrics. httplib turns an unset status (-1) into 200.
      metrics.record_request(e, res.status == -1 ? 200 : res.status);
    };
  }

  void configure_server() {
    const int threads = std::max(1, options.http_threads);
    server.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
    server.set_payload_max_length(options.max_body_bytes);
    server.set_tcp_nodelay(true);
    // SO_REUSEADDR (a restart can rebind at once) but not httplib's default SO_REUSEPORT, which
    // would let a second server silently share the port.
    server.set_socket_options([this](socket_t sock) {
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
      listen_fd = sock;
    });
    server.set_keep_alive_max_count(1u << 30);
    server.set_keep_alive_timeout(5);

    server.Post("/v1/predict", timed(Endpoint::predict, &Impl::predict));
    server.Post(R"(/v1/streams/([^/]+)/step)", timed(Endpoint::stream_step, &Impl::stream_step));
    server.Delete(R"(/v1/streams/([^/]+))", timed(Endpoint::stream_delete, &Impl::stream_delete));
    server.Get("/healthz", timed(Endpoint::healthz, &Impl::healthz));
    server.Get("/metrics", timed(Endpoint::metrics, &Impl::get_metrics));
    // The right path with the wrong method.
    server.Get("/v1/predict", timed(Endpoint::other, &Impl::post_only));
    server.Get(R"(/v1/streams/([^/]+)/step)", timed(Endpoint::other, &Impl::post_only));
    server.Post("/healthz", timed(Endpoint::other, &Impl::get_only));
    server.Post("/metrics", timed(Endpoint::other, &Impl::get_only));

    // Any 4xx/5xx that no handler answered (unknown route, body too large, unreadable
    // request): a JSON body, and counted (handlers count their own responses).
    server.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      metrics.record_request(classify(req), res.status);
      std::string message = std::to_string(res.status) + " " + reason(res.status);
      if (res.status == 404) message = "no such endpoint: " + req.method + " " + req.path;
      if (res.status == 413) {
        message = "the body is larger than the limit of " + std::to_string(options.max_body_bytes) + " bytes";
      }
      res.set_content(error_json(message), kJson);
    });
  }

  // The right path with the wrong method.
  void post_only(const httplib::Request& req, httplib::Response& res) {
    res.set_header("Allow", "POST");
    send_error(res, 405, req.method + " " + req.path + " is not allowed; use POST");
  }
  void get_only(const httplib::Request& req, httplib::Response& res) {
    res.set_header("Allow", "GET");
    send_error(res, 405, req.method + " " + req.path + " is not allowed; use GET");
  }

  void predict(const httplib::Request& req, httplib::Response& res) {
    if (!is_json(req)) return send_error(res, 415, "Content-Type must be application/json");
    std::optional<MicroBatcher::Arrival> arrival;
    if (batcher) arrival.emplace(batcher->announce());
    PredictRequest request;
    if (Status s = parse_predict(req.body, model.input_size(), request); !s.ok()) {
      return send_error(res, 400, s.to_string());
    }
    PredictResult result;
    if (batcher) {
      result = batcher->predict(request, *arrival);
    } else {
      run_group(model, {&request}, {&result}, options.batcher.run_threads);
      metrics.record_batch(request.batch, 1);
    }
    if (result.http_status != 200) return send_error(res, result.http_status, result.error);

    std::string body = "{\"outputs\":";
    body.reserve(result.y.size() * 12 + 64);
    append_json_array(body, result.y.data(), result.y_shape);
    body += ",\"shape\":" + nlohmann::json(result.y_shape).dump();
    if (request.return_state) {
      body += ",\"h_n\":";
      append_json_array(body, result.h_n.data(), result.h_shape);
      if (!result.c_n.empty()) {
        body += ",\"c_n\":";
        append_json_array(body, result.c_n.data(), result.c_shape);
      }
    }
    body += '}';
    res.set_content(body, kJson);
  }

  void stream_step(const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.matches[1];
    if (!valid_stream_id(id)) {
      return send_error(res, 400, "stream id must be 1.." + std::to_string(kMaxStreamIdLength) +
                                      " characters of A-Z a-z 0-9 _ - . :");
    }
    if (!streamable.ok()) return send_error(res, 409, "this model cannot stream: " + streamable.message());
    if (!is_json(req)) return send_error(res, 415, "Content-Type must be application/json");
    std::vector<float> x;  // (1, I)
    if (Status s = parse_step(req.body, model.input_size(), x); !s.ok()) {
      return send_error(res, 400, s.to_string());
    }
    StreamTable::Acquired got = streams.acquire(id, Clock::now(), [this] { return model.new_state(1); });
    if (got.outcome == StreamTable::Outcome::full) {
      return send_error(res, 429, "the stream table is full (" + std::to_string(options.max_streams) +
                                      " streams); DELETE streams you are done with, or wait for idle ones "
                                      "to expire after " +
                                      std::to_string(options.stream_idle.count()) + " ms idle");
    }
    if (got.outcome == StreamTable::Outcome::failed) {
      return send_error(res, got.status.code() == Errc::out_of_memory ? 503 : 500, got.status.to_string());
    }
    std::vector<float> y(static_cast<size_t>(model.output_size()));  // (1, O)
    int64_t step = 0;
    {
      std::lock_guard<std::mutex> lock(got.stream->mu);
      RunOptions opt;
      opt.threads = 1;
      if (Status s = model.step(got.stream->state, x.data(), y.data(), opt); !s.ok()) {
        return send_error(res, s.code() == Errc::non_finite || s.code() == Errc::invalid_argument ? 400 : 500,
                          s.to_string());
      }
      step = ++got.stream->steps;
    }
    std::string body = "{\"y\":";
    append_json_array(body, y.data(), {model.output_size()});
    body += ",\"step\":" + std::to_string(step) + "}";
    res.set_content(body, kJson);
  }

  void stream_delete(const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.matches[1];
    if (!valid_stream_id(id)) return send_error(res, 400, "invalid stream id");
    if (!streams.erase(id)) return send_error(res, 404, "unknown stream '" + id + "'");
    res.set_content(nlohmann::json{{"deleted", id}}.dump(), kJson);
  }

  void healthz(const httplib::Request&, httplib::Response& res) {
    const ModelConfig& spec = model.config();
    nlohmann::ordered_json body;
    body["status"] = "ok";
    body["model"] = {{"name", spec.name},
                     {"layers", spec.layers.size()},
                     {"input_size", model.input_size()},
                     {"output_size", model.output_size()},
                     {"last_step_only", spec.head && spec.head->last_step_only},
                     {"streamable", streamable.ok()},
                     {"isa", isa_name(model.isa())}};
    res.set_content(body.dump(), kJson);
  }

  void get_metrics(const httplib::Request&, httplib::Response& res) {
    streams.expire(Clock::now());
    nlohmann::ordered_json body = metrics.to_json();
    const StreamTable::Counts c = streams.counts();
    body["streams"] = {{"active", c.active},
                       {"created", c.created},
                       {"expired", c.expired},
                       {"deleted", c.deleted},
                       {"rejected_full", c.rejected_full},
                       {"max", options.max_streams}};
    body["batching"] = {{"enabled", options.batching},
                        {"window_us", options.batcher.window.count()},
                        {"max_batch", options.batcher.max_batch},
                        {"workers", options.batcher.workers},
                        {"run_threads", options.batcher.run_threads}};
    res.set_content(body.dump(), kJson);
  }
};

Service::Service(Model model, const ServiceOptions& options)
    : impl_(std::make_unique<Impl>(std::move(model), options)) {}

Service::~Service() { stop(); }

const Model& Service::model() const noexcept { return impl_->model; }

Result<int> Service::start() {
  Impl& s = *impl_;
  int port = s.options.port;
  if (port == 0) {
    port = s.server.bind_to_any_port(s.options.host);
    if (port < 0) return Status(Errc::io, "cannot bind " + s.options.host + " to a free port");
  } else if (!s.server.bind_to_port(s.options.host, port)) {
    return Status(Errc::io, "cannot bind " + s.options.host + ":" + std::to_string(port) +
                                " (in use, or not an address of this host?)");
  }
  // Debian's httplib listens with a backlog of 5: connections arriving together beyond that
  // are dropped. Linux lets listen() on a listening socket raise its backlog.
  if (s.listen_fd >= 0) ::listen(s.listen_fd, SOMAXCONN);
  s.listener = std::thread([&s] {
    s.server.listen_after_bind();
    std::lock_guard<std::mutex> lock(s.state_mu);
    s.stopped = true;
    s.stopped_cv.notify_all();
  });
  // httplib's stop() only takes effect once the accept loop runs: wait for it (microseconds).
  std::unique_lock<std::mutex> lock(s.state_mu);
  while (!s.server.is_running() && !s.stopped) {
    s.stopped_cv.wait_for(lock, std::chrono::microseconds(100));
  }
  if (s.stopped) return Status(Errc::io, "the server stopped right after starting");
  return port;
}

void Service::stop() {
  Impl& s = *impl_;
  std::lock_guard<std::mutex> lock(s.stop_mu);
  s.server.stop();
  if (s.listener.joinable()) s.listener.join();
  if (s.batcher) s.batcher->stop();
}

void Service::wait() {
  Impl& s = *impl_;
  std::unique_lock<std::mutex> lock(s.state_mu);
  s.stopped_cv.wait(lock, [&] { return s.stopped; });
}

}  // namespace recur::service
