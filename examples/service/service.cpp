// The service's routes: which endpoint a request is for, content checks, the handlers, error
// bodies, and the metrics and access-log line of every answer. Every answer but /metrics is
// JSON; every failure is a 4xx/5xx with {"error": message}.
#include "service.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <ctime>
#include <mutex>
#include <optional>

#include <nlohmann/json.hpp>

#include "json_codec.hpp"
#include "metrics.hpp"
#include "stream_table.hpp"
#include "work_limits.hpp"

namespace recur::service {

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kJson = "application/json";
constexpr size_t kMaxStreamIdLength = 128;

enum class Route {
  predict, stream_step, stream_delete, healthz, livez, readyz, metrics, metrics_json,
  wrong_method, not_found
};

struct Routed {
  Route route = Route::not_found;
  std::string stream_id;        // stream_step, stream_delete
  const char* allow = nullptr;  // wrong_method: the method the path takes
};

// The route of method + path; a known path with another method is wrong_method.
Routed route_of(const std::string& method, const std::string& path) {
  auto only = [&](const char* allowed, Route r) {
    return method == allowed ? Routed{r, {}, nullptr} : Routed{Route::wrong_method, {}, allowed};
  };
  if (path == "/v1/predict") return only("POST", Route::predict);
  if (path == "/healthz") return only("GET", Route::healthz);
  if (path == "/livez") return only("GET", Route::livez);
  if (path == "/readyz") return only("GET", Route::readyz);
  if (path == "/metrics") return only("GET", Route::metrics);
  if (path == "/metrics.json") return only("GET", Route::metrics_json);
  static const std::string prefix = "/v1/streams/", step = "/step";
  if (path.compare(0, prefix.size(), prefix) != 0) return {};
  std::string id = path.substr(prefix.size());
  Routed r;
  if (id.size() > step.size() && id.compare(id.size() - step.size(), step.size(), step) == 0) {
    id.resize(id.size() - step.size());
    r = only("POST", Route::stream_step);
  } else {
    r = only("DELETE", Route::stream_delete);
  }
  if (id.empty() || id.find('/') != std::string::npos) return {};
  r.stream_id = std::move(id);
  return r;
}

Endpoint endpoint_of(Route r) {
  switch (r) {
    case Route::predict: return Endpoint::predict;
    case Route::stream_step: return Endpoint::stream_step;
    case Route::stream_delete: return Endpoint::stream_delete;
    case Route::healthz: return Endpoint::healthz;
    case Route::livez: return Endpoint::livez;
    case Route::readyz: return Endpoint::readyz;
    case Route::metrics:
    case Route::metrics_json: return Endpoint::metrics;
    default: return Endpoint::other;
  }
}

void send_error(HttpResponse& res, int status, const std::string& message) {
  res.status = status;
  res.content_type = kJson;
  res.body = error_json(message);
}

// Content-Type must be application/json (parameters such as charset allowed).
bool is_json(const HttpRequest& req) {
  std::string type = req.content_type.substr(0, req.content_type.find(';'));
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

// `s` with '"', '\' and bytes outside printable ASCII as \xHH (the target is the client's).
std::string escaped(const std::string& s) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (const unsigned char c : s) {
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// 2026-12-04T19:01:02.345Z
std::string utc_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

}  // namespace

struct Service::Impl {
  Model model;
  ServiceOptions options;
  Metrics metrics;
  StreamTable streams;
  WorkLimits limits;
  std::unique_ptr<MicroBatcher> batcher;  // null without batching
  Status streamable;                      // ok, or why this model cannot step
  std::optional<HttpServer> server;
  std::mutex stop_mu;  // serializes stop()

  Impl(Model m, const ServiceOptions& o)
      : model(std::move(m)),
        options(o),
        streams(o.max_streams, o.stream_idle),
        limits(model, o.max_work, o.max_response_bytes) {
    Result<State> probe = model.new_state(1);
    if (!probe) streamable = probe.status();
    if (options.batching) batcher = std::make_unique<MicroBatcher>(model, options.batcher, metrics);
    HttpHandlers h;
    h.answer_inline = [this](const HttpRequest& req) { return answer_inline(req); };
    h.handle = [this](const HttpRequest& req, HttpResponse& res) { handle(req, res); };
    h.error_body = [](const std::string& message, HttpResponse& res) {
      res.content_type = kJson;
      res.body = error_json(message);
    };
    h.on_response = [this](const HttpRequest& req, const HttpResponse& res) { on_response(req, res); };
    server.emplace(options.http, std::move(h));
  }

  // Probes, metrics and answers that need no work run on the I/O thread: never queued
  // behind slow requests.
  static bool answer_inline(const HttpRequest& req) {
    switch (route_of(req.method, req.path).route) {
      case Route::healthz:
      case Route::livez:
      case Route::readyz:
      case Route::metrics:
      case Route::metrics_json:
      case Route::wrong_method:
      case Route::not_found: return true;
      default: return false;
    }
  }

  void handle(const HttpRequest& req, HttpResponse& res) {
    const Routed r = route_of(req.method, req.path);
    switch (r.route) {
      case Route::predict: return predict(req, res);
      case Route::stream_step: return stream_step(r.stream_id, req, res);
      case Route::stream_delete: return stream_delete(r.stream_id, res);
      case Route::healthz: return healthz(res);
      case Route::livez: res.body = R"({"status":"alive"})"; return;
      case Route::readyz: return readyz(res);
      case Route::metrics: return get_metrics(res);
      case Route::metrics_json: return get_metrics_json(res);
      case Route::wrong_method:
        res.headers.emplace_back("Allow", r.allow);
        return send_error(res, 405, req.method + " " + req.path + " is not allowed; use " + r.allow);
      case Route::not_found: return send_error(res, 404, "no such endpoint: " + req.method + " " + req.path);
    }
  }

  // Counted before the answer is written, so a client that has its answer sees it in /metrics.
  void on_response(const HttpRequest& req, const HttpResponse& res) {
    const Endpoint e = endpoint_of(route_of(req.method, req.path).route);
    const Clock::duration took = Clock::now() - req.received;
    metrics.record_request(e, res.status);
    metrics.record_latency(e, took);
    if (options.access_log) {
      const auto us = std::chrono::duration_cast<std::chrono::microseconds>(took).count();
      options.access_log(utc_now() + " " + req.peer + " \"" + escaped(req.method) + " " + escaped(req.target) +
                         " HTTP/" + std::to_string(req.version / 10) + "." + std::to_string(req.version % 10) +
                         "\" " + std::to_string(res.status) + " " + std::to_string(res.body.size()) + " " +
                         std::to_string(us) + "us");
    }
  }

  void predict(const HttpRequest& req, HttpResponse& res) {
    if (!is_json(req)) return send_error(res, 415, "Content-Type must be application/json");
    std::optional<MicroBatcher::Arrival> arrival;
    if (batcher) arrival.emplace(batcher->announce());
    PredictRequest request;
    if (Status s = parse_predict(req.body, model.input_size(), request); !s.ok()) {
      return send_error(res, 400, s.to_string());
    }
    if (Status s = limits.check(request); !s.ok()) return send_error(res, 422, s.message());
    PredictResult result;
    if (batcher) {
      result = batcher->predict(request, *arrival, req.client_gone.get());
    } else if (req.gone()) {
      result.http_status = kClientClosed;
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
    res.body = std::move(body);
  }

  void stream_step(const std::string& id, const HttpRequest& req, HttpResponse& res) {
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
    res.body = std::move(body);
  }

  void stream_delete(const std::string& id, HttpResponse& res) {
    if (!valid_stream_id(id)) return send_error(res, 400, "invalid stream id");
    if (!streams.erase(id)) return send_error(res, 404, "unknown stream '" + id + "'");
    res.body = nlohmann::json{{"deleted", id}}.dump();
  }

  void healthz(HttpResponse& res) {
    const ModelConfig& spec = model.config();
    nlohmann::ordered_json body;
    body["status"] = "ok";
    body["ready"] = !server->draining();
    body["model"] = {{"name", spec.name},
                     {"layers", spec.layers.size()},
                     {"input_size", model.input_size()},
                     {"output_size", model.output_size()},
                     {"last_step_only", spec.head && spec.head->last_step_only},
                     {"streamable", streamable.ok()},
                     {"isa", isa_name(model.isa())}};
    res.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }

  void readyz(HttpResponse& res) {
    if (server->draining()) return send_error(res, 503, "draining: the server is shutting down");
    res.body = R"({"status":"ready"})";
  }

  void get_metrics(HttpResponse& res) {
    streams.expire(Clock::now());
    PrometheusText text;
    metrics.append_prometheus(text);
    const StreamTable::Counts c = streams.counts();
    const HttpServer::Counts n = server->counts();
    auto one = [&](const char* name, const char* type, const char* help, double value) {
      text.family(name, type, help);
      text.sample(name, "", value);
    };
    one("recur_streams_active", "gauge", "Streams in the table.", static_cast<double>(c.active));
    one("recur_streams_max", "gauge", "The table's capacity (--max-streams).", static_cast<double>(options.max_streams));
    one("recur_streams_created_total", "counter", "Streams created.", static_cast<double>(c.created));
    one("recur_streams_expired_total", "counter", "Streams dropped after being idle.", static_cast<double>(c.expired));
    one("recur_streams_deleted_total", "counter", "Streams deleted by clients.", static_cast<double>(c.deleted));
    one("recur_streams_rejected_total", "counter", "New streams refused with 429 (table full).",
        static_cast<double>(c.rejected_full));
    one("recur_http_connections_open", "gauge", "Connections open.", static_cast<double>(n.open));
    one("recur_http_connections_accepted_total", "counter", "Connections accepted.", static_cast<double>(n.accepted));
    one("recur_http_connections_rejected_total", "counter", "Connections refused (--max-connections open).",
        static_cast<double>(n.rejected));
    one("recur_http_timeouts_total", "counter", "Requests not sent, or answers not taken, in time.",
        static_cast<double>(n.timed_out));
    one("recur_ready", "gauge", "1 while serving, 0 while draining.", server->draining() ? 0.0 : 1.0);
    res.content_type = PrometheusText::kContentType;
    res.body = text.text();
  }

  void get_metrics_json(HttpResponse& res) {
    streams.expire(Clock::now());
    nlohmann::ordered_json body = metrics.to_json();
    const StreamTable::Counts c = streams.counts();
    const HttpServer::Counts n = server->counts();
    body["streams"] = {{"active", c.active},
                       {"created", c.created},
                       {"expired", c.expired},
                       {"deleted", c.deleted},
                       {"rejected_full", c.rejected_full},
                       {"max", options.max_streams}};
    body["connections"] = {{"open", n.open},
                           {"accepted", n.accepted},
                           {"rejected", n.rejected},
                           {"timed_out", n.timed_out}};
    body["batching"] = {{"enabled", options.batching},
                        {"window_us", options.batcher.window.count()},
                        {"max_batch", options.batcher.max_batch},
                        {"workers", options.batcher.workers},
                        {"run_threads", options.batcher.run_threads}};
    body["ready"] = !server->draining();
    res.body = body.dump();
  }
};

Service::Service(Model model, const ServiceOptions& options)
    : impl_(std::make_unique<Impl>(std::move(model), options)) {}

Service::~Service() { stop(); }

const Model& Service::model() const noexcept { return impl_->model; }

Result<int> Service::start() { return impl_->server->start(); }

void Service::drain() { impl_->server->drain(); }

void Service::stop(std::chrono::milliseconds deadline) {
  Impl& s = *impl_;
  std::lock_guard<std::mutex> lock(s.stop_mu);
  s.server->stop(deadline);
  if (s.batcher) s.batcher->stop();
}

void Service::wait() { impl_->server->wait(); }

}  // namespace recur::service
